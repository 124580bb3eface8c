"""Charts of how departments work together: the network of shared conversations and the
heatmap of shared customers."""

from __future__ import annotations

import math

from siloscope.report_page.formatting import esc, percent
from siloscope.report_page.palette import (
    GLUE,
    GLUE_RING,
    GRID,
    HEAT_HIGH,
    HEAT_LOW,
    INK,
    MUTED,
    NODE,
    blend,
)
from siloscope.report_page.queries import ReportData, Row
from siloscope.report_page.svg import empty_chart, next_id, svg_chart, svg_text

Point = tuple[float, float]


def network_chart(data: ReportData) -> str:
    title = "Department network: who handles conversations together"
    if not data.departments:
        return empty_chart("network", title, "No departments were built yet.")
    width, height = 760, 480
    centre = (width / 2, height / 2 + 6)
    position = _node_positions(data, centre, ring=165)
    parts = _edge_lines(data, position)
    most_conversations = max((d["conversations"] or 0 for d in data.departments), default=0)
    for department in data.departments:
        parts.append(_node(department, position, centre, most_conversations, data.glue_department))
    if not data.network_edges:
        parts.append(
            svg_text(
                centre[0],
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
    return svg_chart("network", width, height, title, description, "".join(parts))


def _node_positions(data: ReportData, centre: Point, ring: float) -> dict[str, Point]:
    """The glue department in the centre, the others on a ring around it."""
    cx, cy = centre
    glue = data.glue_department
    names = [d["department"] for d in data.departments]
    around = [n for n in names if n != glue] if glue else names
    position: dict[str, Point] = {}
    if glue:
        position[glue] = (cx, cy)
    if len(around) == 1 and not glue:
        position[around[0]] = (cx, cy)
    else:
        for i, name in enumerate(around):
            angle = -math.pi / 2 + 2 * math.pi * i / len(around)
            position[name] = (cx + ring * math.cos(angle), cy + ring * math.sin(angle))
    return position


def _edge_lines(data: ReportData, position: dict[str, Point]) -> list[str]:
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
            + svg_text(mx, my + 4.5, text, text_anchor="middle", font_size=12, fill=INK)
        )
    return parts


def _node(
    department: Row,
    position: dict[str, Point],
    centre: Point,
    most_conversations: int,
    glue: str | None,
) -> str:
    """A department's circle, sized by its conversations, with its name outside it."""
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
    lx, ly, anchor = _label_position((x, y), radius, centre)
    return (
        f'<g class="node" data-department="{esc(name)}" data-value="{conversations}">'
        f"<title>{esc(label)}</title>"
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{fill}" '
        f'stroke="{ring_colour}" stroke-width="{4 if is_glue else 1.5}"/></g>'
        + svg_text(lx, ly, name, text_anchor=anchor, font_weight="700", fill=INK, font_size=14)
        + svg_text(
            lx,
            ly + 16,
            f"{conversations} conversations" + (" · glue" if is_glue else ""),
            text_anchor=anchor,
            fill=MUTED,
            font_size=12,
        )
    )


def _label_position(node: Point, radius: float, centre: Point) -> tuple[float, float, str]:
    """Where a node's label goes: outward from the centre, the centre node's below it."""
    x, y = node
    dx, dy = x - centre[0], y - centre[1]
    distance = math.hypot(dx, dy)
    if distance < 1:
        return x, y + radius + 18, "middle"
    ux, uy = dx / distance, dy / distance
    lx, ly = x + ux * (radius + 10), y + uy * (radius + 10) + 5
    anchor = "start" if ux > 0.35 else "end" if ux < -0.35 else "middle"
    if uy > 0.35 and anchor == "middle":
        ly += 10
    if uy < -0.35 and anchor == "middle":
        ly -= 14
    return lx, ly, anchor


def heatmap_chart(data: ReportData) -> str:
    title = "Audience overlap: customers two departments have in common"
    names = [d["department"] for d in data.departments]
    if len(names) < 2:
        return empty_chart("heatmap", title, "Overlap needs at least two departments.")
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
            svg_text(
                left - 10, y + cell / 2 + 5, row_name, text_anchor="end", fill=INK, font_size=13
            )
        )
        for j, column_name in enumerate(names):
            x = left + cell * j
            if i == j:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell - 2}" height="{cell - 2}" '
                    f'fill="#F5F7FA"/>'
                    + svg_text(
                        x + cell / 2 - 1, y + cell / 2 + 5, "—", text_anchor="middle", fill=MUTED
                    )
                )
                continue
            pair = pairs.get((row_name, column_name))
            jaccard = pair["audience_jaccard"] if pair else None
            shared = pair["shared_customers"] if pair else 0
            share = (jaccard or 0) / top
            fill = blend(HEAT_LOW, HEAT_HIGH, share) if jaccard is not None else "#FFFFFF"
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
                + svg_text(
                    x + cell / 2 - 1,
                    y + cell / 2 + 1,
                    percent(jaccard),
                    text_anchor="middle",
                    fill=ink,
                    font_size=14,
                    font_weight="700",
                )
                + svg_text(
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
    gradient_id = f"heat-{next_id()}"
    parts.append(
        f'<defs><linearGradient id="{gradient_id}"><stop offset="0" stop-color="{HEAT_LOW}"/>'
        f'<stop offset="1" stop-color="{HEAT_HIGH}"/></linearGradient></defs>'
        f'<rect x="{left:.1f}" y="{legend_y:.1f}" width="180" height="12" '
        f'fill="url(#{gradient_id})" stroke="{GRID}"/>'
        + svg_text(left, legend_y + 28, "0%", fill=MUTED, font_size=12)
        + svg_text(
            left + 180, legend_y + 28, percent(top), text_anchor="end", fill=MUTED, font_size=12
        )
        + svg_text(
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
    return svg_chart("heatmap", width, height, title, description, "".join(parts))
