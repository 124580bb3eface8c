"""The report page: self-contained, and every mark drawn from the number it stands for.

Expected values come from the marts (queried here independently) or from the planted
structure worked out by hand in marts_fixture; the browser test checks it renders.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from siloscope.cli import main as siloscope
from siloscope.report_page import CHART_QUERIES, write_report_page
from tests.marts_fixture import build_database, messages, nightly_windows, org_config

REPO = Path(__file__).resolve().parents[2]


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    def marks(self, css_class: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if css_class in a.get("class", "").split()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    db = build_database(folder / "work.duckdb", messages(days=4), windows=nightly_windows(4))
    page = write_report_page(db, folder / "report.html", organization="Acme & Co").read_text()
    return db, page, Elements(page)


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_page_needs_nothing_from_the_network(built):
    _, page, elements = built
    assert "://" not in page
    assert not [t for t, _ in elements.tags if t in ("script", "link", "img", "iframe")]
    assert "@import" not in page and "@font-face" not in page
    assert re.findall(r"url\((?!#)", page) == []


def test_the_verdict_and_glue_department_come_first(built):
    db, page, elements = built
    (verdict, glue), *_ = query(
        db,
        "select v.verdict, v.glue_department from marts.org_verdict v "
        "join config.build_window w using (window_start, window_end)",
    )
    assert (verdict, glue) == ("glued", "Care")  # planted in marts_fixture
    word = next(a for t, a in elements.tags if "data-verdict" in a)
    assert word["data-verdict"] == "glued"
    body = page[page.index("<main>") :]
    assert body.index("Glued") < body.index("Care is the glue") < body.index('data-chart="network"')


def test_the_network_has_a_node_per_department_and_a_line_per_co_handled_pair(built):
    db, _, elements = built
    nodes = {n["data-department"]: int(n["data-value"]) for n in elements.marks("node")}
    assert nodes == dict(
        query(db, "select department, conversations from marts.department_scorecard")
    )
    assert nodes["Press"] == 0  # a department that answered nobody is still drawn
    edges = {e["data-pair"]: int(e["data-value"]) for e in elements.marks("edge")}
    expected = query(
        db,
        "select department_a || '|' || department_b, co_handled_conversations "
        "from marts.department_pairs where co_handled_conversations > 0",
    )
    assert edges == dict(expected)
    assert set(edges) == {"Care|Marketing", "Care|Sales"}  # planted


def test_line_widths_grow_with_co_handled_conversations(built):
    _, page, _ = built
    widths = {
        int(value): float(width)
        for value, width in re.findall(
            r'class="edge"[^>]*data-value="(\d+)">.*?stroke-width="([\d.]+)"', page
        )
    }
    assert len(widths) == 2
    smaller, larger = sorted(widths)
    assert widths[smaller] < widths[larger]


def test_the_heatmap_shows_each_pairs_audience_overlap_both_ways(built):
    db, _, elements = built
    cells = {c["data-pair"]: c["data-value"] for c in elements.marks("cell")}
    assert len(cells) == 4 * 3
    for a, b, jaccard in query(
        db, "select department_a, department_b, audience_jaccard from marts.department_pairs"
    ):
        assert float(cells[f"{a}|{b}"]) == pytest.approx(jaccard, abs=1e-6)
        assert cells[f"{b}|{a}"] == cells[f"{a}|{b}"]
    assert float(cells["Care|Marketing"]) == pytest.approx(3 / 8)  # by hand


def test_first_response_medians_agree_with_the_scorecard(built):
    db, _, elements = built
    boxes = {b["data-department"]: float(b["data-value"]) for b in elements.marks("box")}
    scorecard = query(
        db,
        "select department, median_first_response_seconds from marts.department_scorecard "
        "where median_first_response_seconds is not null",
    )
    assert boxes == pytest.approx(dict(scorecard))
    assert boxes["Care"] == pytest.approx(17.5 * 60)  # by hand


def test_the_trend_has_one_verdict_per_nightly_snapshot_in_order(built):
    db, _, elements = built
    nights = [
        v
        for (v,) in query(
            db,
            "select verdict from marts.org_verdict "
            "where window_end is not null order by window_end",
        )
    ]
    assert len(nights) == 4
    assert [r["data-value"] for r in elements.marks("verdict-night")] == nights
    latest = dict(
        query(
            db,
            "select 'cross-department', cross_department_share from marts.org_verdict "
            "where window_end is not null order by window_end desc limit 1",
        )
    )
    series = {s["data-series"]: float(s["data-value"]) for s in elements.marks("series")}
    assert series["cross-department"] == pytest.approx(latest["cross-department"])
    assert {"Care", "Marketing", "Sales"} <= set(series)


def test_the_fragmented_customers_are_counted_as_in_the_verdict(built):
    db, _, elements = built
    (multi, fragmented), *_ = query(
        db,
        "select multi_department_customers, fragmented_customers from marts.org_verdict v "
        "join config.build_window w using (window_start, window_end)",
    )
    bars = {
        b.get("data-series") or b["data-pair"]: int(b["data-value"]) for b in elements.marks("bar")
    }
    assert bars["fragmented"] == fragmented == 1  # ivy, planted
    assert bars["together"] == multi - fragmented
    assert bars["Marketing|Sales"] == 2


def test_every_chart_has_a_title_and_a_description_for_screen_readers(built):
    _, page, elements = built
    charts = [a for t, a in elements.tags if t == "svg"]
    assert len(charts) == 6
    for chart in charts:
        assert chart["role"] == "img"
        title_id, desc_id = chart["aria-labelledby"].split()
        assert f'<title id="{title_id}">' in page and f'<desc id="{desc_id}">' in page


def test_names_from_the_config_are_escaped(tmp_path):
    config = org_config(["Care", "R&D <Lab>"])
    db = build_database(
        tmp_path / "work.duckdb",
        messages(plan=[(("care", "rdlab"), "ann", 5)]),
        config,
    )
    page = write_report_page(db, tmp_path / "report.html").read_text()
    assert "R&amp;D &lt;Lab&gt;" in page
    assert "<Lab>" not in page


def test_a_database_without_a_build_gives_a_page_that_says_so(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    page = write_report_page(empty, tmp_path / "report.html").read_text()
    assert "No data yet" in page and "<svg" not in page


def test_too_few_conversations_is_said_plainly(tmp_path):
    db = build_database(tmp_path / "work.duckdb", messages(), org_config(min_conversations=50))
    page = write_report_page(db, tmp_path / "report.html").read_text()
    assert "Too few conversations to judge: 12 engaged, at least 50 are needed." in page


def test_the_command_line_writes_the_page(built, tmp_path, capsys):
    db, _, _ = built
    out = tmp_path / "on-demand" / "report.html"
    assert siloscope(["report", "--db", str(db), "--html", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert 'data-chart="network"' in out.read_text()


def _normalised(sql: str) -> str:
    return " ".join(sql.split())


def test_docs_show_the_sql_behind_every_chart_verbatim():
    docs = _normalised((REPO / "docs" / "dashboards.md").read_text())
    for chart, queries in CHART_QUERIES.items():
        assert chart in docs, chart
        for sql in queries:
            assert _normalised(sql) in docs, f"{chart}: {sql}"


def test_first_response_rows_come_slowest_first_and_ties_by_name(tmp_path):
    """The box plot and its table list departments in one order every time: a group-by
    alone returns them in whatever order DuckDB's threads finish."""
    from siloscope.report_page.queries import load_report_data

    db = build_database(tmp_path / "work.duckdb", messages(), org_config(min_conversations=50))
    with duckdb.connect(str(db), read_only=True) as con:
        rows = load_report_data(con).first_responses
    assert len(rows) >= 2
    expected = sorted(rows, key=lambda r: (-r["median_seconds"], r["department"]))
    assert [r["department"] for r in rows] == [r["department"] for r in expected]
