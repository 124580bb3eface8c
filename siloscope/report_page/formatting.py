"""How the report page writes numbers, durations, days and verdicts as text."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

VERDICT_LABELS = {
    "glued": "Glued",
    "networked": "Networked",
    "siloed": "Siloed",
    "insufficient_data": "Not enough data",
}


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
