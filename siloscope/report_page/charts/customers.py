"""Charts of what customers meet: how long they wait for a first reply, and whether the
departments that serve them ever work together."""

from __future__ import annotations

from siloscope.report_page.formatting import duration, esc, percent
from siloscope.report_page.palette import (
    FRAGMENTED,
    FRAGMENTED_TEXT,
    GRID,
    INK,
    LIGHT,
    MUTED,
    NODE,
    TOGETHER,
)
from siloscope.report_page.queries import ReportData
from siloscope.report_page.svg import empty_chart, nice_ceiling, svg_chart, svg_text


def first_response_chart(data: ReportData) -> str:
    title = "First-response times: how long customers wait for a first reply"
    by_department = {r["department"]: r for r in data.first_responses}
    rows = [by_department.get(d["department"]) for d in data.departments]
    if not any(rows):
        return empty_chart("first-response", title, "No conversation has a first reply yet.")
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
            + svg_text(
                x, height - 22, f"{value:g} {unit}", text_anchor="middle", fill=MUTED, font_size=12
            )
        )
    parts.append(
        svg_text(
            left,
            18,
            "box: middle half of first replies · whiskers: 10th to 90th percentile · bar: median",
            fill=MUTED,
            font_size=12,
        )
    )
    for i, (name, row) in enumerate(zip(names, rows, strict=True)):
        y = top_margin + row_height * i + row_height / 2
        parts.append(svg_text(left - 10, y + 5, name, text_anchor="end", fill=INK, font_size=13))
        if row is None:
            parts.append(svg_text(left + 6, y + 5, "no first replies", fill=MUTED, font_size=12))
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
            + svg_text(
                left + plot + 14,
                y + 1,
                f"median {duration(row['median_seconds'])}",
                fill=INK,
                font_size=13,
                font_weight="700",
            )
            + svg_text(
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
    return svg_chart("first-response", width, height, title, description, "".join(parts))


def fragmented_chart(data: ReportData) -> str:
    title = "Fragmented customers: served by several departments, never together"
    verdict = data.verdict or {}
    multi = verdict.get("multi_department_customers") or 0
    fragmented = verdict.get("fragmented_customers") or 0
    if not multi:
        return empty_chart(
            "fragmented", title, "No customer was served by more than one department."
        )
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
        svg_text(
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
        + svg_text(left - 10, 50, f"{multi} customers", text_anchor="end", fill=INK, font_size=13)
        + (
            svg_text(
                left + 8,
                50,
                f"{together} met in a shared conversation",
                fill="#FFFFFF",
                font_size=12,
            )
            if split - left > 230
            else ""
        )
        + svg_text(
            left + plot + 10,
            42,
            f"{fragmented} fragmented",
            fill=FRAGMENTED_TEXT,
            font_size=13,
            font_weight="700",
        )
        + svg_text(
            left + plot + 10,
            58,
            f"{percent(fragmented / multi)} of {multi}",
            fill=MUTED,
            font_size=12,
        )
    )
    if pairs:
        parts.append(
            svg_text(
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
            svg_text(left - 10, y + 17, name, text_anchor="end", fill=INK, font_size=13)
            + f'<g class="bar" data-pair="{esc(pair["department_a"])}|'
            f'{esc(pair["department_b"])}" data-value="{disjoint}">'
            f"<title>{esc(name)}: {shared} customers in common, {disjoint} of them never "
            "in a conversation the two handled together</title>"
            f'<rect x="{left}" y="{y:.1f}" width="{plot * shared / most:.1f}" height="24" '
            f'fill="{LIGHT}"/>'
            f'<rect x="{left}" y="{y:.1f}" width="{plot * disjoint / most:.1f}" height="24" '
            f'fill="{FRAGMENTED}"/></g>'
            + svg_text(
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
            svg_text(
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
    return svg_chart("fragmented", width, height, title, description, "".join(parts))
