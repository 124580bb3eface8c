"""`siloscope import twcs`: one TWCS file into the DuckDB file, then what the config finds in it.

TWCS is an export of X customer support, so the config's X accounts are the org accounts
in it; the import says which of them appear, since a handle that never does (a typo, or
a company the dataset does not cover) would leave every conversation unanswered.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from siloscope.config import OrgConfig, normalize_handle
from siloscope.pipeline import connect
from siloscope.settings import Settings


def import_twcs_file(
    settings: Settings, config: OrgConfig, path: str, progress: TextIO | None = None
) -> int:
    """Import, print the report; returns the command's exit status."""
    from ingest.twcs import TwcsFileError, import_twcs, org_account_messages
    from ingest.twcs.csv_file import read_layout

    try:
        read_layout(Path(path))  # a file that is not TWCS is refused before the DB is touched
    except TwcsFileError as exc:
        print(f"siloscope: {exc}", file=sys.stderr)
        return 2
    handles = sorted({normalize_handle(h) for d in config.departments for h in d.accounts.x})
    with connect(settings) as con:
        report = import_twcs(con, path, progress)
        found = org_account_messages(con, handles)
    print(report.describe())
    if handles:
        seen = ", ".join(f"{h} {n:,}" for h, n in found.items() if n)
        missing = ", ".join(h for h, n in found.items() if not n)
        print(f"messages by the config's X accounts in raw.twcs_messages: {seen or 'none'}")
        if missing:
            print(f"not found as a TWCS author_id: {missing}")
    print(
        f"next: siloscope build --config {settings.config_path} --db {settings.db_path} "
        "--window all"
    )
    return 0
