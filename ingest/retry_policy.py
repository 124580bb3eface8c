"""How long a live source keeps trying one request; shared by the X and Reddit clients."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` bounds every kind of retry (429, 5xx, timeouts); waits double each time
    and never exceed `max_rate_limit_wait_seconds`, also when the API asks for longer."""

    max_retries: int
    backoff_seconds: float
    max_rate_limit_wait_seconds: float

    def backoff(self, retry: int) -> float:
        return min(self.backoff_seconds * 2**retry, self.max_rate_limit_wait_seconds)
