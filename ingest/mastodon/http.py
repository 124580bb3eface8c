"""HTTP for the Mastodon source: the raw bodies Mastodon.py received, and bounded retries.

Mastodon.py parses every answer; the landing zone keeps answers byte for byte.
`CapturingSession` (handed to Mastodon.py as its requests session) keeps the last answer;
`ApiCaller` runs one Mastodon.py call at a time through the kit's Retrier and turns its
exceptions into ingest.mastodon.errors with one readable line each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from mastodon import errors as sdk

from ingest.live import Attempt, Retrier, Retry, RetryPolicy, Verdict, redact, require_json
from ingest.mastodon.errors import (
    MastodonAuthError,
    MastodonMalformedPageError,
    MastodonRateLimitError,
    MastodonRequestError,
    MastodonUnavailableError,
)
from ingest.pages import ExtractResult

log = logging.getLogger(__name__)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


class CapturingSession(requests.Session):
    """Sends through `transport` (or itself) and keeps the last answer, with a timeout."""

    def __init__(self, timeout_seconds: float, transport: requests.Session | None = None):
        super().__init__()
        self.timeout_seconds = timeout_seconds
        self.transport = transport
        self.last: Answer | None = None

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        self.last = None
        kwargs["timeout"] = self.timeout_seconds
        sender = self.transport.request if self.transport is not None else super().request
        response = sender(method, url, *args, **kwargs)
        self.last = Answer(response.status_code, response.content, dict(response.headers))
        return response


class ApiCaller:
    """One Mastodon.py call at a time, with retries; returns (its value, the raw body).

    429 waits for X-RateLimit-Reset (an ISO time) when sent, else backs off; 5xx, timeouts
    and connection errors back off; all within `policy.max_retries`. 401/403 and other 4xx
    fail at once. A 200 that is not JSON raises MastodonMalformedPageError with its body.
    """

    def __init__(
        self,
        session: CapturingSession,
        policy: RetryPolicy,
        result: ExtractResult,
        account: str,
        token: str,
        token_hint: str,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.session = session
        self.account = account
        self.token = token
        self.token_hint = token_hint
        self.retrier = Retrier(
            policy,
            log,
            on_attempt=result.count_attempt,
            on_rate_limited=result.count_rate_limited,
            sleep=sleep,
        )

    def call(self, endpoint: str, route: str, api_call: Callable[[], Any]) -> tuple[Any, bytes]:
        def describe(detail: str) -> str:
            return redact(
                f"Mastodon {endpoint} (GET {route}) for @{self.account}: {detail}", [self.token]
            )

        def attempt() -> Any:
            try:
                return api_call()
            except sdk.MastodonAPIError:
                if self.session.last is not None and self.session.last.status == 200:
                    return None  # a 200 Mastodon.py could not parse: landed below, then stop
                raise

        value = self.retrier.call(
            attempt,
            self._classify,
            endpoint=endpoint,
            describe=describe,
            what=f"Mastodon {endpoint} for @{self.account}",
        )
        answer = self.session.last
        body = require_json(
            answer.body if answer else b"", MastodonMalformedPageError, describe, endpoint
        )
        return value, body

    def _classify(self, attempt: Attempt[Any]) -> Verdict:
        exc = attempt.error
        if exc is None or not isinstance(exc, sdk.MastodonError):
            return None
        answer = self.session.last
        status = answer.status if answer else None
        if isinstance(exc, sdk.MastodonRatelimitError) or status == 429:
            wait, why = _rate_limit_wait(answer.headers if answer else {})
            return attempt.rate_limited(MastodonRateLimitError, why, wait)
        if status in (401, 403):
            return attempt.fail(
                MastodonAuthError,
                f"the access token was refused (HTTP {status}); check {self.token_hint} "
                "(value redacted)",
                status,
            )
        if status is None or status >= 500:
            if status is None:
                failure = attempt.fail(
                    MastodonUnavailableError, f"no answer after {attempt.number} attempts"
                )
                return Retry(failure, "no answer (timeout or connection error)")
            return attempt.unavailable(MastodonUnavailableError, status)
        detail = exc.args[3] if len(exc.args) > 3 and exc.args[3] else ""
        return attempt.fail(
            MastodonRequestError,
            f"refused with HTTP {status}" + (f": {str(detail)[:300]}" if detail else ""),
            status,
        )


def _rate_limit_wait(headers: dict[str, str]) -> tuple[float | None, str]:
    """X-RateLimit-Reset is a moment (ISO 8601), not a number of seconds."""
    from datetime import datetime

    reset = {k.lower(): v for k, v in headers.items()}.get("x-ratelimit-reset")
    try:
        reset_at = datetime.fromisoformat(reset.replace("Z", "+00:00")) if reset else None
    except ValueError:
        reset_at = None
    if reset_at is None:
        return None, "no X-RateLimit-Reset header, backing off"
    return max(
        0.0, reset_at.timestamp() - time.time() + 1
    ), f"waiting for X-RateLimit-Reset {reset}"
