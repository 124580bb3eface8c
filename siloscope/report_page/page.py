"""The report page: one HTML file with its styles and charts inside, no script, no link out."""

from __future__ import annotations

from datetime import datetime

from siloscope.report_page import charts
from siloscope.report_page.formatting import VERDICT_LABELS, duration, esc, last_day, percent
from siloscope.report_page.palette import VERDICT_COLOURS
from siloscope.report_page.queries import ReportData, Row

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body {
  margin: 0; background: #F5F7FA; color: #1F2933;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans",
        "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
}
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
.eyebrow { margin: 0; color: #52606D; font-size: 14px; letter-spacing: .04em;
  text-transform: uppercase; }
h1 { margin: 4px 0 4px; font-size: 30px; line-height: 1.2; }
h2 { margin: 0 0 4px; font-size: 21px; }
.meta { margin: 0 0 20px; color: #52606D; }
section { background: #FFFFFF; border: 1px solid #D9E2EC; border-radius: 12px;
  padding: 22px 24px; margin: 0 0 20px; }
section > p { margin: 0 0 14px; max-width: 75ch; }
.verdict { border-left: 10px solid var(--verdict); }
.verdict h2 { font-size: 16px; color: #52606D; font-weight: 600; }
.verdict-word { display: block; font-size: 44px; line-height: 1.1; font-weight: 800;
  color: var(--verdict); margin: 2px 0 10px; }
.lead { font-size: 19px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr));
  gap: 12px; margin: 18px 0 0; }
.figures div { background: #F5F7FA; border-radius: 8px; padding: 12px 14px; }
.figures dt { color: #52606D; font-size: 14px; }
.figures dd { margin: 0; font-size: 26px; font-weight: 700; }
.figures dd small { display: block; font-size: 13px; font-weight: 400; color: #52606D; }
figure { margin: 0; }
svg.chart { width: 100%; height: auto; display: block; font-family: inherit; }
details { margin-top: 12px; }
summary { cursor: pointer; color: #0B5CAD; }
summary:focus-visible { outline: 3px solid #0B5CAD; outline-offset: 2px; }
table { border-collapse: collapse; margin-top: 8px; font-size: 14px; }
caption { text-align: left; color: #52606D; padding-bottom: 4px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #D9E2EC; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { color: #52606D; font-weight: 600; }
.table-wrap { overflow-x: auto; }
footer { color: #52606D; font-size: 14px; padding-bottom: 32px; }
code { font-size: 13px; }
"""


def _explain(data: ReportData) -> str:
    verdict = data.verdict
    if verdict is None:
        return "No metrics were built yet: run the pipeline, then this page fills in."
    kind = verdict["verdict"]
    share = percent(verdict["cross_department_share"])
    if kind == "insufficient_data":
        return (
            f"Too few conversations to judge: {verdict['engaged_conversations']} engaged, "
            f"at least {data.thresholds.get('min_conversations', 'n/a')} are needed."
        )
    if kind == "siloed":
        return (
            f"Departments answer customers on their own: only {share} of engaged "
            "conversations involved more than one department (the silo threshold is "
            f"{percent(data.thresholds.get('silo_threshold'))})."
        )
    if kind == "glued":
        glue = data.glue_department
        card = next((d for d in data.departments if d["department"] == glue), {})
        return (
            f"{glue} is the glue: it took part in {percent(card.get('bridging_share'))} of "
            f"the {verdict['cross_department_conversations']} conversations that involved "
            f"more than one department, and works with {card.get('partners', 'n/a')} "
            f"other departments. {share} of engaged conversations are shared."
        )
    return (
        f"Departments work together ({share} of engaged conversations involved more "
        "than one department), but no single department connects them."
    )


def _figures(data: ReportData) -> str:
    verdict = data.verdict
    if verdict is None:
        return ""
    tiles = [
        (
            "Glue department",
            esc(verdict["glue_department"] or "none"),
            "takes part in most shared work" if verdict["glue_department"] else "no single hub",
        ),
        (
            "Engaged conversations",
            str(verdict["engaged_conversations"]),
            f"of {verdict['customer_conversations']} customer conversations",
        ),
        (
            "Cross-department",
            percent(verdict["cross_department_share"], 1),
            f"{verdict['cross_department_conversations']} conversations shared",
        ),
        (
            "Fragmented customers",
            str(verdict["fragmented_customers"]),
            f"of {verdict['multi_department_customers']} served by several departments",
        ),
        (
            "E-I index",
            "n/a" if verdict["org_ei_index"] is None else f"{verdict['org_ei_index']:+.2f}",
            "−1: every conversation solo · +1: all shared",
        ),
    ]
    return (
        '<dl class="figures">'
        + "".join(
            f"<div><dt>{label}</dt><dd>{value}<small>{esc(note)}</small></dd></div>"
            for label, value, note in tiles
        )
        + "</dl>"
    )


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            (f'<th scope="row">{esc(c)}</th>' if i == 0 else f"<td>{esc(c)}</td>")
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><caption>{esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _numbers(caption: str, headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    return f"<details><summary>The numbers</summary>{_table(caption, headers, rows)}</details>"


def _section(heading: str, lead: str, chart: str, numbers: str = "") -> str:
    section_id = "s-" + "".join(c if c.isalnum() else "-" for c in heading.lower())
    return (
        f'<section aria-labelledby="{section_id}"><h2 id="{section_id}">{esc(heading)}</h2>'
        f"<p>{esc(lead)}</p><figure>{chart}</figure>{numbers}</section>"
    )


def _fmt(value: object, kind: str = "") -> str:
    if value is None:
        return "n/a"
    if kind == "%":
        return percent(value)  # type: ignore[arg-type]
    if kind == "s":
        return duration(value)  # type: ignore[arg-type]
    if kind == "+":
        return f"{value:+.2f}"
    if kind == ".2":
        return f"{value:.2f}"
    return str(value)


def _scorecard(departments: list[Row]) -> str:
    columns = [
        ("department", "Department", ""),
        ("conversations", "Conversations", ""),
        ("shared_conversations", "Shared", ""),
        ("ei_index", "E-I index", "+"),
        ("customers", "Customers", ""),
        ("bridging_share", "Bridging share", "%"),
        ("partners", "Partners", ""),
        ("betweenness", "Betweenness", ".2"),
        ("glue_score", "Glue score", ".2"),
        ("median_first_response_seconds", "Median first reply", "s"),
    ]
    return _table(
        "marts.department_scorecard, latest window",
        [header for _, header, _ in columns],
        [[_fmt(d[key], kind) for key, _, kind in columns] for d in departments],
    )


def _period(data: ReportData) -> str:
    verdict = data.verdict
    if verdict is None:
        return "No build yet."
    start, end = verdict["window_start"], verdict["window_end"]
    if start is None and end is None:
        text = "All conversations"
    else:
        first = f"{start:%-d %b %Y}" if start else "the beginning"
        text = f"Conversations from {first} to {last_day(end) if end else 'now'}"
    publication = data.publication
    if publication:
        published: datetime = publication["published_at"]
        text += f" · published {published:%-d %b %Y %H:%M} UTC"
    return text


def render_page(data: ReportData) -> str:
    verdict = data.verdict
    kind = verdict["verdict"] if verdict else "insufficient_data"
    organization = data.organization or "Your organisation"
    word = VERDICT_LABELS.get(kind, kind) if verdict else "No data yet"
    sections = [
        f'<section class="verdict" style="--verdict:{VERDICT_COLOURS.get(kind, "#5C5C5C")}" '
        f'aria-labelledby="s-verdict"><h2 id="s-verdict">Verdict for the latest window'
        f'<span class="verdict-word" data-verdict="{esc(kind)}">{esc(word)}</span></h2>'
        f'<p class="lead">{esc(_explain(data))}</p>{_figures(data)}</section>'
    ]
    if verdict is not None:
        sections += _chart_sections(data)
        sections.append(
            '<section aria-labelledby="s-scorecard"><h2 id="s-scorecard">Departments</h2>'
            "<p>Every configured department, including those that answered nobody. "
            "Definitions: docs/metrics.md.</p>"
            f"{_scorecard(data.departments)}</section>"
        )
    release = data.publication["release"] if data.publication else "the working database"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Siloscope: {esc(organization)}, {esc(word)}</title>"
        f"<style>{STYLE}</style></head><body>"
        '<header><p class="eyebrow">Siloscope nightly report</p>'
        f"<h1>{esc(organization)}: silos or glue in customer conversations?</h1>"
        f'<p class="meta">{esc(_period(data))}</p></header>'
        f"<main>{''.join(sections)}</main>"
        f"<footer>Drawn from the marts of {esc(release)}. The SQL behind each chart is in "
        "docs/dashboards.md; the metrics are defined in docs/metrics.md.</footer>"
        "</body></html>\n"
    )


def _chart_sections(data: ReportData) -> list[str]:
    network = _section(
        "Department network",
        "Which departments handle the same customer conversations. A department in the "
        "middle, tied to all others, is the glue; departments with no lines work alone.",
        charts.network_chart(data),
        _numbers(
            "Conversations handled by both departments (marts.department_pairs)",
            ["Departments", "Conversations handled together"],
            [
                [f"{e['department_a']} + {e['department_b']}", str(e["co_handled_conversations"])]
                for e in data.network_edges
            ],
        ),
    )
    overlap = _section(
        "Audience overlap",
        "How many customers two departments share. High overlap with few shared "
        "conversations means the same people are served by separate teams.",
        charts.heatmap_chart(data),
        _numbers(
            "Customers in common (marts.department_pairs)",
            ["Departments", "Customers in common", "Share of combined audience"],
            [
                [
                    f"{r['department_a']} + {r['department_b']}",
                    str(r["shared_customers"]),
                    percent(r["audience_jaccard"]),
                ]
                for r in data.audience_overlap
            ],
        ),
    )
    response = _section(
        "First-response times",
        "How long a customer waited for the first reply, by the department that replied first.",
        charts.first_response_chart(data),
        _numbers(
            "First replies (marts.conversations)",
            ["Department", "First replies", "10th pct", "Quarter", "Median", "3 quarters", "90th"],
            [
                [
                    r["department"],
                    str(r["first_responses"]),
                    *(
                        duration(r[k])
                        for k in (
                            "p10_seconds",
                            "p25_seconds",
                            "median_seconds",
                            "p75_seconds",
                            "p90_seconds",
                        )
                    ),
                ]
                for r in data.first_responses
            ],
        ),
    )
    trend = _section(
        "Trend over the nightly snapshots",
        "Each night keeps its figures. The coloured strip is each night's verdict; the "
        "lines are the share of conversations handled by several departments and the share "
        "of multi-department customers who never were in such a conversation.",
        charts.verdict_trend_chart(data),
        _numbers(
            "Nightly verdicts (marts.org_verdict)",
            ["Last day", "Verdict", "Glue department", "Engaged", "Cross-dept.", "Fragmented"],
            [
                [
                    last_day(r["window_end"]),
                    VERDICT_LABELS.get(r["verdict"]) or str(r["verdict"]),
                    r["glue_department"] or "none",
                    str(r["engaged_conversations"]),
                    percent(r["cross_department_share"]),
                    percent(r["fragmented_share"]),
                ]
                for r in data.verdict_trend
            ],
        ),
    )
    department_trend = _section(
        "Who carries the shared work",
        "Of all conversations handled by more than one department, the share each "
        "department took part in. Above the glue threshold, with two or more partners, a "
        "department is the glue.",
        charts.department_trend_chart(data),
        _numbers(
            "Bridging share per night (marts.department_scorecard_history)",
            ["Last day", "Department", "Bridging share", "Glue score"],
            [
                [
                    last_day(r["window_end"]),
                    r["department"],
                    percent(r["bridging_share"]),
                    _fmt(r["glue_score"], ".2"),
                ]
                for r in data.department_trend
            ],
        ),
    )
    fragmented = _section(
        "Fragmented customers",
        "Customers who talked to several departments but never in one conversation: the "
        "same community served by disjoint teams.",
        charts.fragmented_chart(data),
        _numbers(
            "Customers two departments share (marts.department_pairs)",
            ["Departments", "Customers in common", "Never served together"],
            [
                [
                    f"{p['department_a']} + {p['department_b']}",
                    str(p["shared_customers"]),
                    str(p["disjoint_shared_customers"]),
                ]
                for p in data.fragmented_pairs
            ],
        ),
    )
    return [network, overlap, response, trend, department_trend, fragmented]
