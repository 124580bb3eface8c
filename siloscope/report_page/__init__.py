"""The nightly report page: the verdict and its charts in one self-contained HTML file.

    write_report_page(db, path)   read the marts of a DuckDB file, write the page

The page is drawn from the published copy each night (what dashboards show), or from any
database on demand (`siloscope report --html PATH`). The SQL behind each chart lives in
queries.py and is shown in docs/dashboards.md.

    queries.py     what the page reads from the marts
    page.py        the HTML: sections, tables, styles
    charts/        the SVG charts, in three groups (see charts/__init__.py)
    svg.py         the charts' building blocks: frame, text, empty state
    palette.py     colours
    formatting.py  numbers, durations, days and verdicts as text
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from siloscope.report_page.page import render_page
from siloscope.report_page.queries import CHART_QUERIES, ReportData, load_report_data

__all__ = ["CHART_QUERIES", "ReportData", "load_report_data", "render_page", "write_report_page"]


def write_report_page(db_path: Path, out_path: Path, organization: str | None = None) -> Path:
    """Render the page from `db_path` into `out_path`; a browser never sees half a page."""
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        data = load_report_data(con)
    if organization and not data.organization:
        data.organization = organization
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex[:8]}")
    temporary.write_text(render_page(data), encoding="utf-8")
    os.replace(temporary, out_path)
    return out_path
