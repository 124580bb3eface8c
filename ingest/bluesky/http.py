"""HTTP for the Bluesky source: the raw bodies the SDK received, and the bounded retries.

The atproto SDK parses every answer into models; the landing zone keeps answers byte for
byte. `CapturingTransport` (handed to the SDK's httpx client) keeps the body of the last
answer; `XrpcCaller` runs one SDK call at a time, retries what waiting can fix and turns
the SDK's exceptions into ingest.bluesky.errors with one readable line each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from atproto_client import exceptions as sdk

from ingest.bluesky.errors import (
    BlueskyAuthError,
    BlueskyMalformedPageError,
    BlueskyRateLimitError,
    BlueskyRequestError,
    BlueskyUnavailableError,
)
from ingest.live import Attempt, Retrier, Retry, RetryPolicy, Verdict, redact, require_json
from ingest.pages import ExtractResult

log = logging.getLogger(__name__)


@dataclass
class Answer:
    status: int
    body: bytes


class CapturingTransport(httpx.BaseTransport):
    """Sends through `inner` (default: httpx's own) and keeps the last answer's body."""

    def __init__(self, inner: httpx.BaseTransport | None = None):
        self.inner = inner or httpx.HTTPTransport()
        self.last: Answer | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.last = None
        response = self.inner.handle_request(request)
        body = response.read()
        self.last = Answer(response.status_code, body)
        return response

    def close(self) -> None:
        self.inner.close()


class XrpcCaller:
    """One SDK call at a time through the kit's Retrier; returns the raw body of the answer.

    429 waits for `ratelimit-reset` (epoch seconds, the AppView's header) when it is sent,
    else backs off; 5xx, timeouts and connection errors back off; all within
    `policy.max_retries`. 401/403 and other 4xx fail at once. A retry repeats the same call
    (same cursor), so no page is lost or fetched twice. An answer the SDK cannot match to
    the lexicon is still returned (the loader judges each record) and counted in
    `api_errors`; a 200 that is not JSON raises BlueskyMalformedPageError with its body.
    """

    def __init__(
        self,
        transport: CapturingTransport,
        policy: RetryPolicy,
        result: ExtractResult,
        account: str,
        secrets: Callable[[], list[str]],
        credentials_origin: str,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.transport = transport
        self.credentials_origin = credentials_origin
        self.result = result
        self.account = account
        self.secrets = secrets
        self.retrier = Retrier(
            policy,
            log,
            on_attempt=result.count_attempt,
            on_rate_limited=result.count_rate_limited,
            sleep=sleep,
        )

    def call(self, endpoint: str, nsid: str, sdk_call: Callable[[], object]) -> bytes:
        def describe(detail: str) -> str:
            return redact(f"Bluesky {nsid} for {self.account}: {detail}", self.secrets())

        self.retrier.call(
            lambda: self._attempt(endpoint, sdk_call),
            self._classify,
            endpoint=endpoint,
            describe=describe,
            what=f"Bluesky {endpoint} for {self.account}",
        )
        answer = self.transport.last
        body = require_json(
            answer.body if answer else b"", BlueskyMalformedPageError, describe, endpoint
        )
        return body

    def _attempt(self, endpoint: str, sdk_call: Callable[[], object]) -> None:
        try:
            sdk_call()
        except sdk.ModelError:
            # valid JSON the SDK's lexicon models refuse: the loader judges each record
            self.result.endpoint(endpoint).api_errors += 1
        except ValueError:
            pass  # a 200 body that is not JSON: call() lands it and stops

    def _classify(self, attempt: Attempt[None]) -> Verdict:
        exc = attempt.error
        if exc is None:
            return None
        if not isinstance(exc, sdk.AtProtocolError):
            return None
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        error, detail = _xrpc_error(response)
        if isinstance(exc, sdk.RateLimitExceededError):
            headers = dict(getattr(response, "headers", None) or {})
            wait, why = _rate_limit_wait(headers)
            return attempt.rate_limited(BlueskyRateLimitError, why, wait)
        if isinstance(exc, sdk.UnauthorizedError):
            return attempt.fail(
                BlueskyAuthError,
                f"refused with HTTP {status}{detail}; check the handle and app password in "
                f"{self.credentials_origin} (values redacted)",
                status,
            )
        if status is None or status >= 500 or isinstance(exc, sdk.NetworkError):
            if status is None:
                kind = type(exc).__name__
                failure = attempt.fail(
                    BlueskyUnavailableError, f"{kind} after {attempt.number} attempts"
                )
                return Retry(failure, kind)
            return attempt.unavailable(BlueskyUnavailableError, status)
        return BlueskyRequestError(
            attempt.describe(f"refused with HTTP {status}{detail}"),
            endpoint=attempt.endpoint,
            status=status,
            error=error,
        )


def _rate_limit_wait(headers: dict[str, str]) -> tuple[float | None, str]:
    """ratelimit-reset is a moment (epoch seconds), not a number of seconds to wait."""
    reset = headers.get("ratelimit-reset")
    try:
        reset_at = float(reset) if reset is not None else None
    except ValueError:
        reset_at = None
    if reset_at is None:
        return None, "no ratelimit-reset header, backing off"
    # one second past the reset: the header has one-second granularity
    return max(0.0, reset_at - time.time() + 1), f"waiting for ratelimit-reset {reset}"


def _xrpc_error(response: object) -> tuple[str | None, str]:
    """The XRPC error name and `: error: message` for a message, from an error answer."""
    content = getattr(response, "content", None)
    error = getattr(content, "error", None)
    message = getattr(content, "message", None)
    parts = [str(part) for part in (error, message) if part]
    return error, (f": {': '.join(parts)[:300]}" if parts else "")
