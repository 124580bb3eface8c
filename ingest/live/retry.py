"""One retry loop for every live source, driven by the source's `classify` function.

The loop makes an attempt and hands its outcome (the value returned, or the exception
raised) to `classify`, which knows the source's client library and answers with one of:

    None            accept: return the value (or re-raise an exception it does not know)
    Retry(...)      waiting may heal it: wait, then repeat the very same call
    an ExtractError  give up now (a refused credential, a rejected request)

The loop owns everything else: counting attempts and 429s, the bounded exponential
backoff, the log line before each wait, and raising `Retry.failure` once the retries are
spent. `Attempt` builds the usual verdicts with the same wording for every source.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import requests

from ingest.live.errors import ExtractError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` bounds every kind of retry (429, 5xx, timeouts); waits double each time
    and never exceed `max_rate_limit_wait_seconds`, also when the API asks for longer."""

    max_retries: int = 5
    backoff_seconds: float = 1.0
    max_rate_limit_wait_seconds: float = 900

    def __post_init__(self) -> None:
        if min(self.max_retries, self.backoff_seconds, self.max_rate_limit_wait_seconds) < 0:
            raise ValueError("retry settings cannot be negative")

    def backoff(self, retry: int) -> float:
        return min(self.backoff_seconds * 2**retry, self.max_rate_limit_wait_seconds)


def check_timeout(request_timeout_seconds: float) -> float:
    if request_timeout_seconds <= 0:
        raise ValueError("request_timeout_seconds must be positive")
    return request_timeout_seconds


@dataclass(frozen=True)
class Retry:
    """`classify`'s answer for a failure that waiting may heal."""

    failure: ExtractError  # raised once no retry is left
    reason: str  # the log line's why: "HTTP 503", "timed out"
    wait: float | None = None  # seconds the API asked for (capped); None: back off
    rate_limited: bool = False  # a 429: counted apart


Verdict = Retry | ExtractError | None


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """One attempt's outcome, for `classify`: `value` or `error` is set."""

    number: int  # 1 for the first attempt
    endpoint: str
    describe: Callable[[str], str]  # a detail -> the whole message, secrets redacted
    value: T | None = None
    error: BaseException | None = None

    def fail(
        self, kind: type[ExtractError], detail: str, status: int | None = None
    ) -> ExtractError:
        """Give up at once with `kind`."""
        return kind(self.describe(detail), endpoint=self.endpoint, status=status)

    def rate_limited(self, kind: type[ExtractError], why: str, wait: float | None) -> Retry:
        """A 429: wait `wait` seconds (None: back off), `why` says which header said so."""
        failure = self.fail(
            kind,
            f"still rate limited (HTTP 429) after {self.number} attempts; last answer: {why}",
            429,
        )
        return Retry(failure, f"HTTP 429, {why}", wait, rate_limited=True)

    def unavailable(self, kind: type[ExtractError], status: int) -> Retry:
        """A 5xx (or another status the API answers while it heals): back off."""
        failure = self.fail(kind, f"HTTP {status} after {self.number} attempts", status)
        return Retry(failure, f"HTTP {status}")

    def transport_failure(self, kind: type[ExtractError]) -> Retry | None:
        """A timeout or a connection error: back off. None for any other exception."""
        if not isinstance(self.error, requests.Timeout | requests.ConnectionError):
            return None
        what = "timed out" if isinstance(self.error, requests.Timeout) else "connection failed"
        return Retry(self.fail(kind, f"{what} after {self.number} attempts: {self.error}"), what)


def _nothing(endpoint: str) -> None:
    return None


class Retrier:
    """Runs one request at a time under `policy`, counting every attempt.

    `on_attempt` and `on_rate_limited` receive the endpoint (`ExtractResult.count_attempt`
    and `count_rate_limited` fit); the log lines go to the source's own `log`.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        log: logging.Logger,
        *,
        on_attempt: Callable[[str], None] = _nothing,
        on_rate_limited: Callable[[str], None] = _nothing,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy
        self.log = log
        self.on_attempt = on_attempt
        self.on_rate_limited = on_rate_limited
        self.sleep = sleep

    def call(
        self,
        call: Callable[[], T],
        classify: Callable[[Attempt[T]], Verdict],
        *,
        endpoint: str,
        describe: Callable[[str], str],
        what: str,
    ) -> T:
        """`call()`'s value once `classify` accepts it.

        `describe` turns a detail into the failure's whole message (naming endpoint, route
        and account, secrets redacted); `what` names the request in the log line before a
        wait ("X mentions for @acme").
        """
        number = 0
        while True:
            number += 1
            self.on_attempt(endpoint)
            try:
                value = call()
            except Exception as exc:
                verdict = classify(Attempt(number, endpoint, describe, error=exc))
                if verdict is None:
                    raise
            else:
                verdict = classify(Attempt(number, endpoint, describe, value=value))
                if verdict is None:
                    return value
            if isinstance(verdict, ExtractError):
                # from None: the client's exception may hold the request's headers (a token)
                raise verdict from None
            self._wait_or_give_up(number - 1, verdict, endpoint, what)

    def _wait_or_give_up(self, retry: int, verdict: Retry, endpoint: str, what: str) -> None:
        if verdict.rate_limited:
            self.on_rate_limited(endpoint)
        if retry >= self.policy.max_retries:
            raise verdict.failure from None
        if verdict.wait is None:
            wait = self.policy.backoff(retry)
        else:
            wait = min(max(0.0, verdict.wait), self.policy.max_rate_limit_wait_seconds)
        self.log.warning(
            "%s: %s; retry %d of %d in %.3g s",
            what,
            verdict.reason,
            retry + 1,
            self.policy.max_retries,
            wait,
        )
        self.sleep(wait)


def wait_from_headers(response: requests.Response, *headers: str) -> tuple[float | None, str]:
    """How long a 429 asks to wait, from the first of `headers` that holds a number of
    seconds (`retry-after`), and why; None (back off) when none does."""
    for header in headers:
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        return seconds, f"waiting {header} {value}"
    return None, f"no {' or '.join(headers)} header, backing off"
