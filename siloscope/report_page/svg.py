"""SVG primitives of the report page's charts: the chart frame, text, the empty state.

Every chart is an <svg role="img"> with a <title> and a <desc> a screen reader reads out;
the ids that tie them together are unique within a page.
"""

from __future__ import annotations

import math
from itertools import count

from siloscope.report_page.formatting import esc
from siloscope.report_page.palette import GRID, MUTED

_ids = count(1)


def next_id() -> int:
    """A number no other chart of this process (so of this page) has used."""
    return next(_ids)


def svg_chart(kind: str, width: int, height: int, title: str, description: str, body: str) -> str:
    chart_id = f"chart-{kind}-{next_id()}"
    return (
        f'<svg class="chart" data-chart="{kind}" viewBox="0 0 {width} {height}" '
        f'style="max-width:{width}px" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{esc(title)}</title>'
        f'<desc id="{chart_id}-desc">{esc(description)}</desc>'
        f"{body}</svg>"
    )


def svg_text(x: float, y: float, text: str, **attrs: object) -> str:
    attributes = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{attributes}>{esc(text)}</text>'


def empty_chart(kind: str, title: str, message: str, width: int = 640, height: int = 90) -> str:
    body = (
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="8" '
        f'fill="#F5F7FA" stroke="{GRID}"/>'
        + svg_text(width / 2, height / 2 + 5, message, text_anchor="middle", fill=MUTED)
    )
    return svg_chart(kind, width, height, title, message, body)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value - 1e-12:
            return step * magnitude
    return 10 * magnitude


def spread_labels(positions: list[tuple[float, str]], gap: float) -> list[tuple[float, str]]:
    """Move label positions apart (keeping their order) so no two are closer than gap."""
    placed: list[tuple[float, str]] = []
    for y, label in sorted(positions):
        if placed and y - placed[-1][0] < gap:
            y = placed[-1][0] + gap
        placed.append((y, label))
    return placed
