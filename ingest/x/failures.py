"""tweepy's exceptions, classified for the kit's retry loop (`ingest.live.retry`).

429, 5xx, timeouts and connection errors are retried; 401/403 and any other 4xx fail at
once. Messages come from the runner's `describe`, so they name the endpoint and the
account and carry no token.
"""

from __future__ import annotations

import time

import requests
import tweepy

from ingest.live import Attempt, Verdict
from ingest.x.errors import XAuthError, XRateLimitError, XRequestError, XUnavailableError


def classify(attempt: Attempt[requests.Response], token_hint: str) -> Verdict:
    """The verdict on one tweepy call. `token_hint` says where the bearer token is set."""
    exc = attempt.error
    if isinstance(exc, tweepy.TooManyRequests):
        wait, why = _rate_limit_wait(exc.response)
        return attempt.rate_limited(XRateLimitError, why, wait)
    if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
        status = exc.response.status_code
        return attempt.fail(
            XAuthError,
            f"the X bearer token was refused (HTTP {status}{_api_detail(exc)}); check the "
            f"token in {token_hint} (value redacted)",
            status,
        )
    if isinstance(exc, tweepy.TwitterServerError):
        return attempt.unavailable(XUnavailableError, exc.response.status_code)
    if isinstance(exc, tweepy.HTTPException):
        status = exc.response.status_code
        return attempt.fail(XRequestError, f"rejected with HTTP {status}{_api_detail(exc)}", status)
    return attempt.transport_failure(XUnavailableError)


def _rate_limit_wait(response: requests.Response) -> tuple[float | None, str]:
    reset = response.headers.get("x-rate-limit-reset")
    if reset is not None:
        try:
            reset_at = float(reset)
        except ValueError:
            reset_at = None
        if reset_at is not None:
            # One second past the reset: the header has one-second granularity.
            return max(0.0, reset_at - time.time() + 1), f"waiting for x-rate-limit-reset {reset}"
    return None, "no x-rate-limit-reset header, backing off"


def _api_detail(exc: tweepy.HTTPException) -> str:
    messages = [message for message in exc.api_messages if message]
    if not messages:
        try:
            document = exc.response.json()
        except ValueError:
            return ""
        if isinstance(document, dict):
            messages = [str(document[k]) for k in ("title", "detail") if document.get(k)]
    return f": {'; '.join(messages)[:300]}" if messages else ""
