"""Charts over the nightly snapshots: the verdict and its shares, and each department's
part in cross-department conversations, night by night."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from siloscope.report_page.formatting import VERDICT_LABELS, esc, last_day, percent
from siloscope.report_page.palette import (
    FRAGMENTED,
    GRID,
    INK,
    MUTED,
    TOGETHER,
    VERDICT_COLOURS,
    department_colours,
)
from siloscope.report_page.queries import ReportData
from siloscope.report_page.svg import empty_chart, spread_labels, svg_chart, svg_text

Series = tuple[str, str, str, list[float | None]]


@dataclass(frozen=True)
class _Plot:
    """Where a share over the nights goes on the drawing."""

    left: float
    width: float
    top: float
    bottom: float
    nights: int
    y_max: float

    def x_at(self, i: int) -> float:
        if self.nights > 1:
            return self.left + self.width * i / (self.nights - 1)
        return self.left + self.width / 2

    def y_at(self, v: float) -> float:
        return self.bottom - (self.bottom - self.top) * v / self.y_max


def line_chart(
    kind: str,
    title: str,
    description: str,
    dates: list[datetime],
    series: list[Series],
    threshold: tuple[str, float] | None,
    verdicts: list[str] | None = None,
) -> str:
    """Shares (0..1) over nights; series are (label, colour, dash, values per date)."""
    note_space = 22 if len(dates) == 1 else 0
    width, height = 820, (340 if verdicts else 300) + note_space
    left, right, top = 56, 210, 60 if verdicts else 24
    values = [v for _, _, _, vs in series for v in vs if v is not None]
    highest = max([*values, threshold[1] if threshold else 0, 0.01]) * 1.08
    step = next(s for s in (0.02, 0.05, 0.1, 0.2, 0.25) if highest / s <= 5)
    plot = _Plot(
        left=left,
        width=width - left - right,
        top=top,
        bottom=height - 40 - note_space,
        nights=len(dates),
        y_max=min(1.0, step * math.ceil(highest / step)),
    )
    parts = _grid(plot, step) + _night_labels(plot, dates)
    if verdicts:
        parts += _verdict_strip(plot, dates, verdicts)
    if len(dates) == 1:
        parts.append(
            svg_text(
                left,
                height - 8,
                "One nightly snapshot so far: a point is added each night.",
                fill=MUTED,
                font_size=12,
            )
        )
    if threshold:
        y = plot.y_at(threshold[1])
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot.width}" '
            f'y2="{y:.1f}" stroke="{INK}" stroke-dasharray="2 4" stroke-width="1.5"/>'
        )
    lines, end_labels = _series_lines(plot, series)
    parts += lines
    if threshold:
        end_labels.append(
            (plot.y_at(threshold[1]), f"{threshold[0]} {percent(threshold[1])}|{INK}")
        )
    # direct labels, each behind a swatch of its line: coloured text would be too faint
    for y, text in spread_labels(end_labels, 16):
        label, colour = text.rsplit("|", 1)
        parts.append(
            f'<line x1="{left + plot.width + 8}" y1="{y:.1f}" x2="{left + plot.width + 24}" '
            f'y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>'
            + svg_text(left + plot.width + 30, y + 4, label, fill=INK, font_size=12)
        )
    return svg_chart(kind, width, height, title, description, "".join(parts))


def _grid(plot: _Plot, step: float) -> list[str]:
    parts = []
    for tick in range(round(plot.y_max / step) + 1):
        v = step * tick
        y = plot.y_at(v)
        parts.append(
            f'<line x1="{plot.left}" y1="{y:.1f}" x2="{plot.left + plot.width}" y2="{y:.1f}" '
            f'stroke="{GRID}"/>'
            + svg_text(
                plot.left - 8, y + 4, percent(v), text_anchor="end", fill=MUTED, font_size=12
            )
        )
    return parts


def _night_labels(plot: _Plot, dates: list[datetime]) -> list[str]:
    """The last day of each night's window, at most about seven of them."""
    label_every = max(1, math.ceil(len(dates) / 7))
    return [
        svg_text(
            plot.x_at(i),
            plot.bottom + 20,
            f"{(day - timedelta(microseconds=1)):%-d %b}",
            text_anchor="middle",
            fill=MUTED,
            font_size=12,
        )
        for i, day in enumerate(dates)
        if i % label_every == 0 or i == len(dates) - 1
    ]


def _verdict_strip(plot: _Plot, dates: list[datetime], verdicts: list[str]) -> list[str]:
    """A band per night in its verdict's colour, above the plot, with a legend beside it."""
    parts = []
    band = plot.width / max(len(dates) - 1, 1)
    right_edge = plot.left + plot.width
    for i, verdict in enumerate(verdicts):
        x = plot.x_at(i)
        if len(dates) > 1:  # each night's band, cut at the plot's edges
            x0, x1 = max(plot.left, x - band / 2), min(right_edge, x + band / 2)
        else:
            x0, x1 = x - 12, x + 12
        parts.append(
            f'<rect class="verdict-night" data-value="{esc(verdict)}" x="{x0:.1f}" y="12" '
            f'width="{max(x1 - x0 - 1, 1):.1f}" height="18" '
            f'fill="{VERDICT_COLOURS.get(verdict, MUTED)}">'
            f"<title>{esc(last_day(dates[i]))}: {esc(VERDICT_LABELS.get(verdict, verdict))}"
            "</title></rect>"
        )
    parts.append(svg_text(plot.left, 8, "verdict each night", fill=MUTED, font_size=11))
    legend_y = 12
    for verdict in dict.fromkeys(verdicts):
        parts.append(
            f'<rect x="{right_edge + 10}" y="{legend_y}" width="12" height="12" '
            f'fill="{VERDICT_COLOURS.get(verdict, MUTED)}"/>'
            + svg_text(
                right_edge + 28,
                legend_y + 10,
                VERDICT_LABELS.get(verdict, verdict),
                fill=INK,
                font_size=12,
            )
        )
        legend_y += 16
    return parts


def _series_lines(plot: _Plot, series: list[Series]) -> tuple[list[str], list[tuple[float, str]]]:
    """Each series' line and points, and where its end label goes ("label|colour")."""
    parts = []
    end_labels: list[tuple[float, str]] = []
    for label, colour, dash, vs in series:
        points = [(plot.x_at(i), plot.y_at(v)) for i, v in enumerate(vs) if v is not None]
        if not points:
            continue
        marks = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 if plot.nights > 1 else 6}" fill="{colour}"/>'
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
    return parts, end_labels


def verdict_trend_chart(data: ReportData) -> str:
    title = "The verdict and its shares, night by night"
    if not data.verdict_trend:
        return empty_chart(
            "verdict-trend", title, "No nightly snapshot yet: the trend starts tonight."
        )
    nights = data.verdict_trend
    dates = [r["window_end"] for r in nights]
    silo = data.thresholds.get("silo_threshold")
    description = f"{len(nights)} nightly snapshots. " + "; ".join(
        f"{last_day(r['window_end'])}: {VERDICT_LABELS.get(r['verdict'], r['verdict'])}, "
        f"{percent(r['cross_department_share'])} cross-department, "
        f"{percent(r['fragmented_share'])} fragmented"
        for r in nights
    )
    return line_chart(
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
        return empty_chart("department-trend", title, "No nightly snapshot yet.")
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
        return empty_chart("department-trend", title, "No cross-department conversation yet.")
    description = "Share of all cross-department conversations each department took part in: " + (
        "; ".join(
            f"{name}: {percent(next(v for v in reversed(vs) if v is not None))}"
            for name, _, _, vs in series
        )
    )
    return line_chart(
        "department-trend",
        title,
        description,
        dates,
        series,
        ("glue threshold", glue) if glue is not None else None,
    )
