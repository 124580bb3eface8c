"""Faults the fake APIs answer with instead of the real answer, as a test schedules them.

Each fake defines the faults of its own API (rate limits, error bodies); the two below
mean the same on every API, and FaultSchedule decides which request gets which fault.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Truncated:
    """HTTP 200 with the first `keep` fraction of the real body."""

    keep: float = 0.5


@dataclass(frozen=True)
class Slow:
    """Answer normally, but only after `seconds` (for client timeouts)."""

    seconds: float


@dataclass
class _ScheduledFault:
    fault: object
    endpoint: str | None
    skip: int
    times: int
    applies_to: Callable[[str], bool] | None
    seen: int = 0
    applied: int = 0


class FaultSchedule:
    """Faults in the order scheduled; a request gets one at most, and thread-safely."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scheduled: list[_ScheduledFault] = []

    def add(
        self,
        fault: object,
        *,
        endpoint: str | None = None,
        skip: int = 0,
        times: int = 1,
        applies_to: Callable[[str], bool] | None = None,
    ) -> None:
        """Let `skip` requests (to `endpoint`, or any; whose route arguments `applies_to`
        accepts, or any) through, then answer `times` of them with `fault`."""
        with self._lock:
            self._scheduled.append(_ScheduledFault(fault, endpoint, skip, times, applies_to))

    def take(self, endpoint: str, route_args: str = "") -> object | None:
        """The fault this request gets, if any; counts it as seen or applied."""
        with self._lock:
            for scheduled in self._scheduled:
                if scheduled.applied >= scheduled.times:
                    continue
                if scheduled.endpoint not in (None, endpoint):
                    continue
                if scheduled.applies_to is not None and not scheduled.applies_to(route_args):
                    continue
                scheduled.seen += 1
                if scheduled.seen > scheduled.skip:
                    scheduled.applied += 1
                    return scheduled.fault
                return None
        return None

    @property
    def pending(self) -> list[object]:
        """Faults not yet answered as often as asked (a test's fault never hit)."""
        with self._lock:
            return [s.fault for s in self._scheduled if s.applied < s.times]
