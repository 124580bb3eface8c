"""The SQL behind each chart of the report page, and the data it reads.

docs/dashboards.md shows these queries verbatim (a test holds it to that), so a dashboard
built in Superset, Metabase or Evidence draws the same numbers as the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

# The verdict of the window the other marts were built for (config.build_window).
LATEST_VERDICT = """
select v.*
from marts.org_verdict as v
join config.build_window as w
    on v.window_start is not distinct from w.window_start
    and v.window_end is not distinct from w.window_end
"""

THRESHOLDS = """
select glue_threshold, silo_threshold, min_conversations
from config.thresholds
"""

DEPARTMENTS = """
select s.*
from marts.department_scorecard as s
join config.departments as d using (department)
order by d.position
"""

NETWORK_EDGES = """
select department_a, department_b, co_handled_conversations
from marts.department_pairs
where co_handled_conversations > 0
order by co_handled_conversations desc
"""

AUDIENCE_OVERLAP = """
select department_a, department_b, shared_customers, audience_jaccard
from marts.department_pairs
"""

FIRST_RESPONSE_DISTRIBUTION = """
select
    first_department as department,
    count(*) as first_responses,
    quantile_cont(first_response_seconds, 0.10) as p10_seconds,
    quantile_cont(first_response_seconds, 0.25) as p25_seconds,
    median(first_response_seconds) as median_seconds,
    quantile_cont(first_response_seconds, 0.75) as p75_seconds,
    quantile_cont(first_response_seconds, 0.90) as p90_seconds
from marts.conversations
where first_response_seconds is not null
group by first_department
order by median_seconds desc, department
"""

VERDICT_TREND = """
select
    window_end,
    verdict,
    glue_department,
    engaged_conversations,
    cross_department_share,
    fragmented_share
from marts.org_verdict
where window_end is not null
order by window_end
"""

DEPARTMENT_TREND = """
select window_end, department, bridging_share, glue_score
from marts.department_scorecard_history
where window_end is not null
order by window_end, department
"""

FRAGMENTED_PAIRS = """
select department_a, department_b, shared_customers, disjoint_shared_customers
from marts.department_pairs
where shared_customers > 0
order by disjoint_shared_customers desc, shared_customers desc
"""

PUBLICATION = """
select release, organization, published_at, build_window_start, build_window_end
from meta.publication
"""

# Chart title -> the queries it draws from, in the order docs/dashboards.md shows them.
CHART_QUERIES: dict[str, tuple[str, ...]] = {
    "Verdict and glue department": (LATEST_VERDICT, THRESHOLDS, DEPARTMENTS),
    "Department network": (DEPARTMENTS, NETWORK_EDGES),
    "Audience overlap": (AUDIENCE_OVERLAP,),
    "First-response times": (FIRST_RESPONSE_DISTRIBUTION,),
    "Trend over the nightly snapshots": (VERDICT_TREND, DEPARTMENT_TREND),
    "Fragmented customers": (LATEST_VERDICT, FRAGMENTED_PAIRS),
}

Row = dict[str, Any]


@dataclass
class ReportData:
    verdict: Row | None
    thresholds: Row
    departments: list[Row]
    network_edges: list[Row]
    audience_overlap: list[Row]
    first_responses: list[Row]
    verdict_trend: list[Row]
    department_trend: list[Row]
    fragmented_pairs: list[Row]
    publication: Row | None = None
    organization: str | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def glue_department(self) -> str | None:
        return self.verdict.get("glue_department") if self.verdict else None


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[Row]:
    cursor = con.execute(query)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


REQUIRED_TABLES = (
    "marts.org_verdict",
    "marts.department_scorecard",
    "marts.department_pairs",
    "marts.conversations",
    "marts.department_scorecard_history",
    "config.build_window",
    "config.thresholds",
    "config.departments",
)


def load_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Everything the page draws; a database without a finished build gives empty data."""
    present = {
        f"{schema}.{table}"
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables()"
        ).fetchall()
    }
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        return ReportData(None, {}, [], [], [], [], [], [], [], missing=missing)
    verdicts = _rows(con, LATEST_VERDICT)
    thresholds = _rows(con, THRESHOLDS)
    publication = _rows(con, PUBLICATION) if "meta.publication" in present else []
    return ReportData(
        verdict=verdicts[0] if verdicts else None,
        thresholds=thresholds[0] if thresholds else {},
        departments=_rows(con, DEPARTMENTS),
        network_edges=_rows(con, NETWORK_EDGES),
        audience_overlap=_rows(con, AUDIENCE_OVERLAP),
        first_responses=_rows(con, FIRST_RESPONSE_DISTRIBUTION),
        verdict_trend=_rows(con, VERDICT_TREND),
        department_trend=_rows(con, DEPARTMENT_TREND),
        fragmented_pairs=_rows(con, FRAGMENTED_PAIRS),
        publication=publication[0] if publication else None,
        organization=publication[0]["organization"] if publication else None,
    )
