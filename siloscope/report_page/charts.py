"""Inline SVG charts, drawn in Python: the page needs no script, font or file from anywhere.

Every chart is an <svg role="img"> with a <title> and a <desc> a screen reader reads
out, and `data-*` attributes on its marks, so a test (or a curious reader of the source)
can tell which number each mark stands for. Colours are the Okabe-Ito palette, which
stays distinguishable with the common colour-vision deficiencies; text on colour keeps a
contrast of at least 4.5:1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from itertools import count

from siloscope.report_page.queries import ReportData

# Okabe-Ito, darkest first, yellow left out: too light for lines on white.
DEPARTMENT_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
VERDICT_COLOURS = {
    "glued": "#00775A",
    "networked": "#005A8C",
    "siloed": "#B34400",
    "insufficient_data": "#5C5C5C",
}
VERDICT_LABELS = {
    "glued": "Glued",
    "networked": "Networked",
    "siloed": "Siloed",
    "insufficient_data": "Not enough data",
}
INK = "#1F2933"
MUTED = "#52606D"
GRID = "#D9E2EC"
GLUE = "#009E73"
GLUE_RING = "#00553F"
NODE = "#0072B2"
FRAGMENTED = "#D55E00"
FRAGMENTED_TEXT = "#A33E00"  # the orange, darkened to 4.5:1 on white for text
TOGETHER = "#0072B2"
LIGHT = "#BCCCDC"

_ids = count(1)


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def percent(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:.{digits}%}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def last_day(window_end: datetime) -> str:
    """A window [start, end) ending at midnight covers up to the day before."""
    return f"{(window_end - timedelta(microseconds=1)):%-d %b %Y}"


def department_colours(departments: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(colour, dash pattern) per department, stable in config order across charts."""
    return {
        name: (
            DEPARTMENT_COLOURS[i % len(DEPARTMENT_COLOURS)],
            DASHES[(i // len(DEPARTMENT_COLOURS)) % len(DASHES)],
        )
        for i, name in enumerate(departments)
    }


def _svg(kind: str, width: int, height: int, title: str, description: str, body: str) -> str:
    chart_id = f"chart-{kind}-{next(_ids)}"
    return (
        f'<svg class="chart" data-chart="{kind}" viewBox="0 0 {width} {height}" '
        f'style="max-width:{width}px" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{esc(title)}</title>'
        f'<desc id="{chart_id}-desc">{esc(description)}</desc>'
        f"{body}</svg>"
    )


def _text(x: float, y: float, text: str, **attrs: object) -> str:
    attributes = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{attributes}>{esc(text)}</text>'


def _empty(kind: str, title: str, message: str, width: int = 640, height: int = 90) -> str:
    body = (
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="8" '
        f'fill="#F5F7FA" stroke="{GRID}"/>'
        + _text(width / 2, height / 2 + 5, message, text_anchor="middle", fill=MUTED)
    )
    return _svg(kind, width, height, title, message, body)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value - 1e-12:
            return step * magnitude
    return 10 * magnitude


def _spread(positions: list[tuple[float, str]], gap: float) -> list[tuple[float, str]]:
    """Move label positions apart (keeping their order) so no two are closer than gap."""
    placed: list[tuple[float, str]] = []
    for y, label in sorted(positions):
        if placed and y - placed[-1][0] < gap:
            y = placed[-1][0] + gap
        placed.append((y, label))
    return placed


# --- the department network ---------------------------------------------------------


def network_chart(data: ReportData) -> str:
    title = "Department network: who handles conversations together"
    if not data.departments:
        return _empty("network", title, "No departments were built yet.")
    width, height = 760, 480
    cx, cy, ring = width / 2, height / 2 + 6, 165
    glue = data.glue_department
    names = [d["department"] for d in data.departments]
    around = [n for n in names if n != glue] if glue else names
    position: dict[str, tuple[float, float]] = {}
    if glue:
        position[glue] = (cx, cy)
    if len(around) == 1 and not glue:
        position[around[0]] = (cx, cy)
    else:
        for i, name in enumerate(around):
            angle = -math.pi / 2 + 2 * math.pi * i / len(around)
            position[name] = (cx + ring * math.cos(angle), cy + ring * math.sin(angle))

    most_conversations = max((d["conversations"] or 0 for d in data.departments), default=0)
    most_shared = max((e["co_handled_conversations"] for e in data.network_edges), default=0)
    parts = []
    for edge in data.network_edges:
        (x1, y1), (x2, y2) = position[edge["department_a"]], position[edge["department_b"]]
        shared = edge["co_handled_conversations"]
        # against at least ten, so a handful of shared conversations never looks like a lot
        stroke = 2 + 12 * shared / max(most_shared, 10)
        label = (
            f"{edge['department_a']} and {edge['department_b']}: "
            f"{shared} conversations handled together"
        )
        parts.append(
            f'<g class="edge" data-pair="{esc(edge["department_a"])}|'
            f'{esc(edge["department_b"])}" data-value="{shared}">'
            f"<title>{esc(label)}</title>"
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="#7B8794" stroke-opacity="0.75" stroke-width="{stroke:.1f}" '
            f'stroke-linecap="round"/></g>'
        )
    # counts on top of every line, so no line hides another's number
    for edge in data.network_edges:
        (x1, y1), (x2, y2) = position[edge["department_a"]], position[edge["department_b"]]
        mx, my = x1 + (x2 - x1) * 0.55, y1 + (y2 - y1) * 0.55
        text = str(edge["co_handled_conversations"])
        box = 10 + 7.5 * len(text)
        parts.append(
            f'<rect x="{mx - box / 2:.1f}" y="{my - 10:.1f}" width="{box:.1f}" height="19" '
            f'rx="9" fill="#FFFFFF" stroke="#9AA5B1"/>'
            + _text(mx, my + 4.5, text, text_anchor="middle", font_size=12, fill=INK)
        )
    for department in data.departments:
        name = department["department"]
        x, y = position[name]
        conversations = department["conversations"] or 0
        radius = 12 + (20 * math.sqrt(conversations / most_conversations) if conversations else 0)
        is_glue = name == glue
        fill, ring_colour = (GLUE, GLUE_RING) if is_glue else (NODE, "#004B75")
        label = (
            f"{name}: {conversations} conversations, {department['partners']} partner "
            f"departments{' (the glue department)' if is_glue else ''}"
        )
        parts.append(
            f'<g class="node" data-department="{esc(name)}" data-value="{conversations}">'
            f"<title>{esc(label)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{fill}" '
            f'stroke="{ring_colour}" stroke-width="{4 if is_glue else 1.5}"/></g>'
        )
        # the label goes outward from the centre, the glue department's below it
        dx, dy = x - cx, y - cy
        distance = math.hypot(dx, dy)
        if distance < 1:
            lx, ly, anchor = x, y + radius + 18, "middle"
        else:
            ux, uy = dx / distance, dy / distance
            lx, ly = x + ux * (radius + 10), y + uy * (radius + 10) + 5
            anchor = "start" if ux > 0.35 else "end" if ux < -0.35 else "middle"
            if uy > 0.35 and anchor == "middle":
                ly += 10
            if uy < -0.35 and anchor == "middle":
                ly -= 14
        parts.append(
            _text(lx, ly, name, text_anchor=anchor, font_weight="700", fill=INK, font_size=14)
            + _text(
                lx,
                ly + 16,
                f"{conversations} conversations" + (" · glue" if is_glue else ""),
                text_anchor=anchor,
                fill=MUTED,
                font_size=12,
            )
        )
    if not data.network_edges:
        parts.append(
            _text(
                cx,
                24,
                "No conversation was handled by two departments: no lines to draw.",
                text_anchor="middle",
                fill=MUTED,
            )
        )
    description = (
        "Circles are departments, sized by the conversations each took part in; a line "
        "joins two departments that handled the same customer conversation, thicker for "
        "more. "
        + "; ".join(
            f"{e['department_a']} and {e['department_b']}: {e['co_handled_conversations']}"
            for e in data.network_edges
        )
    )
    return _svg("network", width, height, title, description, "".join(parts))


# --- the audience-overlap heatmap -----------------------------------------------------


def _blend(start: str, end: str, share: float) -> str:
    a = [int(start[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(end[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02X}" for x, y in zip(a, b, strict=True))


HEAT_LOW, HEAT_HIGH = "#EEF4FA", "#08306B"


def heatmap_chart(data: ReportData) -> str:
    title = "Audience overlap: customers two departments have in common"
    names = [d["department"] for d in data.departments]
    if len(names) < 2:
        return _empty("heatmap", title, "Overlap needs at least two departments.")
    pairs = {}
    for row in data.audience_overlap:
        pairs[(row["department_a"], row["department_b"])] = row
        pairs[(row["department_b"], row["department_a"])] = row
    values = [r["audience_jaccard"] for r in data.audience_overlap if r["audience_jaccard"]]
    top = max(values, default=0) or 1.0
    cell = 66
    left = 24 + 7.4 * max(len(n) for n in names)
    header = 30 + 6.2 * max(len(n) for n in names)
    width = int(left + cell * len(names) + 20)
    height = int(header + cell * len(names) + 64)
    parts = []
    for j, name in enumerate(names):
        x = left + cell * j + cell / 2
        parts.append(
            f'<text x="{x:.1f}" y="{header - 10:.1f}" transform="rotate(-40 {x:.1f} '
            f'{header - 10:.1f})" fill="{INK}" font-size="13">{esc(name)}</text>'
        )
    for i, row_name in enumerate(names):
        y = header + cell * i
        parts.append(
            _text(left - 10, y + cell / 2 + 5, row_name, text_anchor="end", fill=INK, font_size=13)
        )
        for j, column_name in enumerate(names):
            x = left + cell * j
            if i == j:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell - 2}" height="{cell - 2}" '
                    f'fill="#F5F7FA"/>'
                    + _text(
                        x + cell / 2 - 1, y + cell / 2 + 5, "—", text_anchor="middle", fill=MUTED
                    )
                )
                continue
            pair = pairs.get((row_name, column_name))
            jaccard = pair["audience_jaccard"] if pair else None
            shared = pair["shared_customers"] if pair else 0
            share = (jaccard or 0) / top
            fill = _blend(HEAT_LOW, HEAT_HIGH, share) if jaccard is not None else "#FFFFFF"
            ink = "#FFFFFF" if share > 0.5 else INK
            label = (
                f"{row_name} and {column_name}: {shared} customers in common, "
                f"{percent(jaccard)} of their combined audience"
            )
            parts.append(
                f'<g class="cell" data-pair="{esc(row_name)}|{esc(column_name)}" '
                f'data-value="{"" if jaccard is None else f"{jaccard:.6f}"}">'
                f"<title>{esc(label)}</title>"
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{fill}" stroke="{GRID}"/>'
                + _text(
                    x + cell / 2 - 1,
                    y + cell / 2 + 1,
                    percent(jaccard),
                    text_anchor="middle",
                    fill=ink,
                    font_size=14,
                    font_weight="700",
                )
                + _text(
                    x + cell / 2 - 1,
                    y + cell / 2 + 17,
                    f"{shared} shared",
                    text_anchor="middle",
                    fill=ink,
                    font_size=10,
                )
                + "</g>"
            )
    # legend: the colour scale from 0 to the largest overlap shown
    legend_y = header + cell * len(names) + 22
    gradient_id = f"heat-{next(_ids)}"
    parts.append(
        f'<defs><linearGradient id="{gradient_id}"><stop offset="0" stop-color="{HEAT_LOW}"/>'
        f'<stop offset="1" stop-color="{HEAT_HIGH}"/></linearGradient></defs>'
        f'<rect x="{left:.1f}" y="{legend_y:.1f}" width="180" height="12" '
        f'fill="url(#{gradient_id})" stroke="{GRID}"/>'
        + _text(left, legend_y + 28, "0%", fill=MUTED, font_size=12)
        + _text(
            left + 180, legend_y + 28, percent(top), text_anchor="end", fill=MUTED, font_size=12
        )
        + _text(
            left + 192,
            legend_y + 11,
            "share of the two audiences combined",
            fill=MUTED,
            font_size=12,
        )
    )
    description = (
        "A grid of departments against departments; each cell is the share of the two "
        "departments' combined customers that both served (Jaccard index), darker for more. "
        + "; ".join(
            f"{r['department_a']} and {r['department_b']}: {percent(r['audience_jaccard'])}"
            for r in data.audience_overlap
        )
    )
    return _svg("heatmap", width, height, title, description, "".join(parts))


# --- first-response times -------------------------------------------------------------


def first_response_chart(data: ReportData) -> str:
    title = "First-response times: how long customers wait for a first reply"
    by_department = {r["department"]: r for r in data.first_responses}
    rows = [by_department.get(d["department"]) for d in data.departments]
    if not any(rows):
        return _empty("first-response", title, "No conversation has a first reply yet.")
    names = [d["department"] for d in data.departments]
    left = 24 + 7.4 * max(len(n) for n in names)
    plot = 560
    right = 190
    row_height = 44
    top_margin = 34
    width = int(left + plot + right)
    height = top_margin + row_height * len(names) + 46
    longest = max(r["p90_seconds"] for r in rows if r)
    unit, divisor = ("min", 60) if longest < 3 * 3600 else ("h", 3600)
    axis_max = nice_ceiling(longest / divisor)

    def x_at(seconds: float) -> float:
        return left + plot * (seconds / divisor) / axis_max

    parts = []
    for tick in range(6):
        value = axis_max * tick / 5
        x = left + plot * tick / 5
        parts.append(
            f'<line x1="{x:.1f}" y1="{top_margin - 6}" x2="{x:.1f}" '
            f'y2="{height - 40}" stroke="{GRID}"/>'
            + _text(
                x, height - 22, f"{value:g} {unit}", text_anchor="middle", fill=MUTED, font_size=12
            )
        )
    parts.append(
        _text(
            left,
            18,
            "box: middle half of first replies · whiskers: 10th to 90th percentile · bar: median",
            fill=MUTED,
            font_size=12,
        )
    )
    for i, (name, row) in enumerate(zip(names, rows, strict=True)):
        y = top_margin + row_height * i + row_height / 2
        parts.append(_text(left - 10, y + 5, name, text_anchor="end", fill=INK, font_size=13))
        if row is None:
            parts.append(_text(left + 6, y + 5, "no first replies", fill=MUTED, font_size=12))
            continue
        p10, p25, p50, p75, p90 = (
            x_at(row[k])
            for k in ("p10_seconds", "p25_seconds", "median_seconds", "p75_seconds", "p90_seconds")
        )
        label = (
            f"{name}: median first reply {duration(row['median_seconds'])} over "
            f"{row['first_responses']} conversations; middle half between "
            f"{duration(row['p25_seconds'])} and {duration(row['p75_seconds'])}"
        )
        parts.append(
            f'<g class="box" data-department="{esc(name)}" '
            f'data-value="{row["median_seconds"]:.3f}"><title>{esc(label)}</title>'
            f'<line x1="{p10:.1f}" y1="{y:.1f}" x2="{p90:.1f}" y2="{y:.1f}" stroke="{MUTED}" '
            f'stroke-width="1.5"/>'
            f'<line x1="{p10:.1f}" y1="{y - 7:.1f}" x2="{p10:.1f}" y2="{y + 7:.1f}" '
            f'stroke="{MUTED}" stroke-width="1.5"/>'
            f'<line x1="{p90:.1f}" y1="{y - 7:.1f}" x2="{p90:.1f}" y2="{y + 7:.1f}" '
            f'stroke="{MUTED}" stroke-width="1.5"/>'
            f'<rect x="{p25:.1f}" y="{y - 12:.1f}" width="{max(p75 - p25, 1):.1f}" height="24" '
            f'fill="#9ECAE9" stroke="{NODE}" stroke-width="1.5"/>'
            f'<line x1="{p50:.1f}" y1="{y - 14:.1f}" x2="{p50:.1f}" y2="{y + 14:.1f}" '
            f'stroke="{INK}" stroke-width="3.5"/></g>'
            + _text(
                left + plot + 14,
                y + 1,
                f"median {duration(row['median_seconds'])}",
                fill=INK,
                font_size=13,
                font_weight="700",
            )
            + _text(
                left + plot + 14,
                y + 16,
                f"{row['first_responses']} first replies",
                fill=MUTED,
                font_size=11,
            )
        )
    description = "Median first reply per department: " + "; ".join(
        f"{r['department']}: {duration(r['median_seconds'])}" for r in data.first_responses
    )
    return _svg("first-response", width, height, title, description, "".join(parts))


# --- trends over the nightly snapshots ------------------------------------------------


def _line_chart(
    kind: str,
    title: str,
    description: str,
    dates: list[datetime],
    series: list[tuple[str, str, str, list[float | None]]],
    threshold: tuple[str, float] | None,
    verdicts: list[str] | None = None,
) -> str:
    """Shares (0..1) over nights; series are (label, colour, dash, values per date)."""
    note_space = 22 if len(dates) == 1 else 0
    width, height = 820, (340 if verdicts else 300) + note_space
    left, right, top = 56, 210, 60 if verdicts else 24
    bottom = height - 40 - note_space
    plot_width = width - left - right
    values = [v for _, _, _, vs in series for v in vs if v is not None]
    highest = max([*values, threshold[1] if threshold else 0, 0.01]) * 1.08
    step = next(s for s in (0.02, 0.05, 0.1, 0.2, 0.25) if highest / s <= 5)
    y_max = min(1.0, step * math.ceil(highest / step))
    ticks = round(y_max / step)

    def x_at(i: int) -> float:
        return left + (plot_width * i / (len(dates) - 1) if len(dates) > 1 else plot_width / 2)

    def y_at(v: float) -> float:
        return bottom - (bottom - top) * v / y_max

    parts = []
    for tick in range(ticks + 1):
        v = step * tick
        parts.append(
            f'<line x1="{left}" y1="{y_at(v):.1f}" x2="{left + plot_width}" y2="{y_at(v):.1f}" '
            f'stroke="{GRID}"/>'
            + _text(left - 8, y_at(v) + 4, percent(v), text_anchor="end", fill=MUTED, font_size=12)
        )
    label_every = max(1, math.ceil(len(dates) / 7))
    for i, day in enumerate(dates):
        if i % label_every == 0 or i == len(dates) - 1:
            parts.append(
                _text(
                    x_at(i),
                    bottom + 20,
                    f"{(day - timedelta(microseconds=1)):%-d %b}",
                    text_anchor="middle",
                    fill=MUTED,
                    font_size=12,
                )
            )
    if verdicts:
        band = plot_width / max(len(dates) - 1, 1)
        for i, verdict in enumerate(verdicts):
            if len(dates) > 1:  # each night's band, cut at the plot's edges
                x0 = max(left, x_at(i) - band / 2)
                x1 = min(left + plot_width, x_at(i) + band / 2)
            else:
                x0, x1 = x_at(i) - 12, x_at(i) + 12
            parts.append(
                f'<rect class="verdict-night" data-value="{esc(verdict)}" x="{x0:.1f}" y="12" '
                f'width="{max(x1 - x0 - 1, 1):.1f}" height="18" '
                f'fill="{VERDICT_COLOURS.get(verdict, MUTED)}">'
                f"<title>{esc(last_day(dates[i]))}: {esc(VERDICT_LABELS.get(verdict, verdict))}"
                "</title></rect>"
            )
        parts.append(_text(left, 8, "verdict each night", fill=MUTED, font_size=11))
        legend_y = 12
        for verdict in dict.fromkeys(verdicts):
            parts.append(
                f'<rect x="{left + plot_width + 10}" y="{legend_y}" width="12" height="12" '
                f'fill="{VERDICT_COLOURS.get(verdict, MUTED)}"/>'
                + _text(
                    left + plot_width + 28,
                    legend_y + 10,
                    VERDICT_LABELS.get(verdict, verdict),
                    fill=INK,
                    font_size=12,
                )
            )
            legend_y += 16
    if len(dates) == 1:
        parts.append(
            _text(
                left,
                height - 8,
                "One nightly snapshot so far: a point is added each night.",
                fill=MUTED,
                font_size=12,
            )
        )
    if threshold:
        name, value = threshold
        parts.append(
            f'<line x1="{left}" y1="{y_at(value):.1f}" x2="{left + plot_width}" '
            f'y2="{y_at(value):.1f}" stroke="{INK}" stroke-dasharray="2 4" stroke-width="1.5"/>'
        )
    end_labels: list[tuple[float, str]] = []
    for label, colour, dash, vs in series:
        points = [(x_at(i), y_at(v)) for i, v in enumerate(vs) if v is not None]
        if not points:
            continue
        marks = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 if len(dates) > 1 else 6}" fill="{colour}"/>'
            for x, y in points
        )
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points)
        )
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        latest = next(v for v in reversed(vs) if v is not None)
        parts.append(
            f'<g class="series" data-series="{esc(label)}" data-value="{latest:.6f}">'
            f"<title>{esc(label)}: {percent(latest)} in the latest window</title>"
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            f"{marks}</g>"
        )
        end_labels.append((points[-1][1], f"{label} {percent(latest)}|{colour}"))
    if threshold:
        end_labels.append((y_at(threshold[1]), f"{threshold[0]} {percent(threshold[1])}|{INK}"))
    # direct labels, each behind a swatch of its line: coloured text would be too faint
    for y, text in _spread(end_labels, 16):
        label, colour = text.rsplit("|", 1)
        parts.append(
            f'<line x1="{left + plot_width + 8}" y1="{y:.1f}" x2="{left + plot_width + 24}" '
            f'y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>'
            + _text(left + plot_width + 30, y + 4, label, fill=INK, font_size=12)
        )
    return _svg(kind, width, height, title, description, "".join(parts))


def verdict_trend_chart(data: ReportData) -> str:
    title = "The verdict and its shares, night by night"
    if not data.verdict_trend:
        return _empty("verdict-trend", title, "No nightly snapshot yet: the trend starts tonight.")
    nights = data.verdict_trend
    dates = [r["window_end"] for r in nights]
    silo = data.thresholds.get("silo_threshold")
    description = f"{len(nights)} nightly snapshots. " + "; ".join(
        f"{last_day(r['window_end'])}: {VERDICT_LABELS.get(r['verdict'], r['verdict'])}, "
        f"{percent(r['cross_department_share'])} cross-department, "
        f"{percent(r['fragmented_share'])} fragmented"
        for r in nights
    )
    return _line_chart(
        "verdict-trend",
        title,
        description,
        dates,
        [
            (
                "cross-department",
                TOGETHER,
                "",
                [r["cross_department_share"] for r in nights],
            ),
            ("fragmented", FRAGMENTED, "6 3", [r["fragmented_share"] for r in nights]),
        ],
        ("silo threshold", silo) if silo is not None else None,
        verdicts=[r["verdict"] for r in nights],
    )


def department_trend_chart(data: ReportData) -> str:
    title = "Each department's part in cross-department conversations, night by night"
    if not data.department_trend:
        return _empty("department-trend", title, "No nightly snapshot yet.")
    dates = sorted({r["window_end"] for r in data.department_trend})
    names = [d["department"] for d in data.departments] or sorted(
        {r["department"] for r in data.department_trend}
    )
    colours = department_colours(names)
    by_key = {
        (r["window_end"], r["department"]): r["bridging_share"] for r in data.department_trend
    }
    glue = data.thresholds.get("glue_threshold")
    series = [
        (name, *colours[name], [by_key.get((day, name)) for day in dates])
        for name in names
        if any(by_key.get((day, name)) is not None for day in dates)
    ]
    if not series:
        return _empty("department-trend", title, "No cross-department conversation yet.")
    description = "Share of all cross-department conversations each department took part in: " + (
        "; ".join(
            f"{name}: {percent(next(v for v in reversed(vs) if v is not None))}"
            for name, _, _, vs in series
        )
    )
    return _line_chart(
        "department-trend",
        title,
        description,
        dates,
        series,
        ("glue threshold", glue) if glue is not None else None,
    )


# --- fragmented customers -------------------------------------------------------------


def fragmented_chart(data: ReportData) -> str:
    title = "Fragmented customers: served by several departments, never together"
    verdict = data.verdict or {}
    multi = verdict.get("multi_department_customers") or 0
    fragmented = verdict.get("fragmented_customers") or 0
    if not multi:
        return _empty("fragmented", title, "No customer was served by more than one department.")
    pairs = data.fragmented_pairs[:8]
    names = [f"{p['department_a']} + {p['department_b']}" for p in pairs]
    left = max(170, 24 + 7.2 * max((len(n) for n in names), default=0))
    plot = 420
    width = int(left + plot + 150)
    height = 112 + 34 * len(pairs) + (30 if len(data.fragmented_pairs) > len(pairs) else 10)
    parts = []
    together = multi - fragmented
    split = left + plot * together / multi
    parts.append(
        _text(
            0,
            18,
            f"{multi} customers were served by two or more departments",
            fill=INK,
            font_size=14,
            font_weight="700",
        )
        + f'<g class="bar" data-series="together" data-value="{together}">'
        f"<title>{together} of them met the departments together in a shared "
        "conversation</title>"
        f'<rect x="{left}" y="30" width="{split - left:.1f}" height="30" fill="{TOGETHER}"/></g>'
        f'<g class="bar" data-series="fragmented" data-value="{fragmented}">'
        f"<title>{fragmented} of them never were in a conversation two departments "
        "handled</title>"
        f'<rect x="{split:.1f}" y="30" width="{left + plot - split:.1f}" height="30" '
        f'fill="{FRAGMENTED}"/></g>'
        + _text(left - 10, 50, f"{multi} customers", text_anchor="end", fill=INK, font_size=13)
        + (
            _text(
                left + 8,
                50,
                f"{together} met in a shared conversation",
                fill="#FFFFFF",
                font_size=12,
            )
            if split - left > 230
            else ""
        )
        + _text(
            left + plot + 10,
            42,
            f"{fragmented} fragmented",
            fill=FRAGMENTED_TEXT,
            font_size=13,
            font_weight="700",
        )
        + _text(
            left + plot + 10,
            58,
            f"{percent(fragmented / multi)} of {multi}",
            fill=MUTED,
            font_size=12,
        )
    )
    if pairs:
        parts.append(
            _text(
                0,
                92,
                "By pair of departments: customers both served (grey), and of them never "
                "in a conversation the two handled together (orange)",
                fill=MUTED,
                font_size=12,
            )
        )
    most = max((p["shared_customers"] for p in pairs), default=1)
    for i, pair in enumerate(pairs):
        y = 104 + 34 * i
        shared, disjoint = pair["shared_customers"], pair["disjoint_shared_customers"]
        name = names[i]
        parts.append(
            _text(left - 10, y + 17, name, text_anchor="end", fill=INK, font_size=13)
            + f'<g class="bar" data-pair="{esc(pair["department_a"])}|'
            f'{esc(pair["department_b"])}" data-value="{disjoint}">'
            f"<title>{esc(name)}: {shared} customers in common, {disjoint} of them never "
            "in a conversation the two handled together</title>"
            f'<rect x="{left}" y="{y:.1f}" width="{plot * shared / most:.1f}" height="24" '
            f'fill="{LIGHT}"/>'
            f'<rect x="{left}" y="{y:.1f}" width="{plot * disjoint / most:.1f}" height="24" '
            f'fill="{FRAGMENTED}"/></g>'
            + _text(
                left + plot * shared / most + 8,
                y + 17,
                f"{disjoint} of {shared}",
                fill=INK,
                font_size=12,
            )
        )
    hidden = len(data.fragmented_pairs) - len(pairs)
    if hidden > 0:
        parts.append(
            _text(
                left,
                height - 10,
                f"and {hidden} more pairs (see the numbers)",
                fill=MUTED,
                font_size=12,
            )
        )
    description = (
        f"{fragmented} of {multi} customers served by several departments were never in a "
        "cross-department conversation. "
        + "; ".join(
            f"{n}: {p['disjoint_shared_customers']} of {p['shared_customers']}"
            for n, p in zip(names, pairs, strict=True)
        )
    )
    return _svg("fragmented", width, height, title, description, "".join(parts))
