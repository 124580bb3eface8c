"""The terminal report: the verdict, glue department and departments of the window built last."""

from __future__ import annotations

from siloscope.pipeline import connect
from siloscope.settings import Settings

_SCORECARD_COLUMNS = (
    ("department", "department", "{}"),
    ("conversations", "convs", "{}"),
    ("shared_conversations", "shared", "{}"),
    ("ei_index", "E-I", "{:+.2f}"),
    ("bridging_share", "bridging", "{:.0%}"),
    ("partners", "partners", "{}"),
    ("betweenness", "betweenness", "{:.2f}"),
    ("glue_score", "glue", "{:.2f}"),
    ("median_first_response_seconds", "median 1st reply", "{:.0f}s"),
)


def _cell(value, template: str) -> str:
    return "-" if value is None else template.format(value)


def terminal_report(settings: Settings) -> str:
    if not settings.db_path.exists():
        return f"no database at {settings.db_path}: run `siloscope run` first"
    with connect(settings, read_only=True) as con:
        (built,) = con.execute(
            "select count(*) = 2 from information_schema.tables where "
            "(table_schema, table_name) in (('marts', 'org_verdict'), ('config', 'build_window'))"
        ).fetchone()
        if not built:
            return "no verdict yet: run `siloscope build` first"
        # the window built last: marts.department_scorecard holds that window's figures,
        # so the verdict shown beside it must be the same window's
        cursor = con.execute(
            "select v.* from marts.org_verdict as v join config.build_window as w "
            "on v.window_start is not distinct from w.window_start "
            "and v.window_end is not distinct from w.window_end"
        )
        columns = [c[0] for c in cursor.description]
        row = cursor.fetchone()
        if row is None:
            return "no verdict yet: run `siloscope build` first"
        verdict = dict(zip(columns, row, strict=True))
        names = [name for name, _, _ in _SCORECARD_COLUMNS]
        departments = con.execute(
            f"select {', '.join(names)} from marts.department_scorecard "
            "order by glue_score desc, department"
        ).fetchall()

    start = verdict["window_start"] or "the beginning"
    end = verdict["window_end"] or "now"
    share = verdict["cross_department_share"]
    lines = [
        f"Window: {start} to {end}",
        f"Verdict: {verdict['verdict'].upper()}",
        f"Glue department: {verdict['glue_department'] or 'none'}",
        f"Engaged conversations: {verdict['engaged_conversations']} "
        f"({'n/a' if share is None else f'{share:.1%}'} cross-department); "
        f"fragmented customers: {verdict['fragmented_customers']} "
        f"of {verdict['multi_department_customers']} served by several departments",
        "",
    ]
    table = [[header for _, header, _ in _SCORECARD_COLUMNS]]
    for department in departments:
        table.append(
            [_cell(v, t) for v, (_, _, t) in zip(department, _SCORECARD_COLUMNS, strict=True)]
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for i, cells in enumerate(table):
        lines.append(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
