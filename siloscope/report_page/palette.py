"""The report page's colours.

The Okabe-Ito palette stays distinguishable with the common colour-vision deficiencies;
text on colour keeps a contrast of at least 4.5:1.
"""

from __future__ import annotations

from collections.abc import Sequence

# Okabe-Ito, darkest first, yellow left out: too light for lines on white.
DEPARTMENT_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
VERDICT_COLOURS = {
    "glued": "#00775A",
    "networked": "#005A8C",
    "siloed": "#B34400",
    "insufficient_data": "#5C5C5C",
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
HEAT_LOW, HEAT_HIGH = "#EEF4FA", "#08306B"


def department_colours(departments: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(colour, dash pattern) per department, stable in config order across charts."""
    return {
        name: (
            DEPARTMENT_COLOURS[i % len(DEPARTMENT_COLOURS)],
            DASHES[(i // len(DEPARTMENT_COLOURS)) % len(DASHES)],
        )
        for i, name in enumerate(departments)
    }


def blend(start: str, end: str, share: float) -> str:
    a = [int(start[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(end[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02X}" for x, y in zip(a, b, strict=True))
