"""How long a live source keeps trying one request; shared by the X and Reddit clients."""

from __future__ import annotations

import logging
from collections.abc import Callable
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

    def wait_or_give_up(
        self,
        retry: int,
        wait: float,
        failure: Exception,
        what: str,
        log: logging.Logger,
        sleep: Callable[[float], None],
    ) -> None:
        """After attempt `retry` (from 0) failed: raise `failure` once every retry is spent,
        else log `what` went wrong (on the source's own logger) and wait `wait` seconds."""
        if retry >= self.max_retries:
            raise failure
        log.warning("%s; retry %d of %d in %.3g s", what, retry + 1, self.max_retries, wait)
        sleep(wait)
