"""Times as the APIs speak them: UTC, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC, the APIs' only time zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def stamp(moment: datetime | float | None) -> str:
    """`2026-01-31T23:59:59Z` for a datetime or an epoch in seconds; `?` for None."""
    if moment is None:
        return "?"
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, tz=UTC)
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
