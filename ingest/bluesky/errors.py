"""Why a Bluesky extract stopped. Every message names the endpoint and never a secret.

Each kind derives from the live-source kit's (ingest/live/errors.py), whose `retryable`
says whether waiting (rate limit, outage) or a person (credential, request) fixes it.
"""

from __future__ import annotations

from ingest.live import (
    AuthError,
    ExtractError,
    MalformedPageError,
    RateLimitError,
    RequestError,
    UnavailableError,
)


class BlueskyExtractError(ExtractError):
    """A Bluesky extract for one account could not finish."""


class BlueskyAuthError(BlueskyExtractError, AuthError):
    """401/403, or createSession refused the handle and app password: nothing is retried."""


class BlueskyRateLimitError(BlueskyExtractError, RateLimitError):
    """Still answered 429 after every allowed wait."""


class BlueskyUnavailableError(BlueskyExtractError, UnavailableError):
    """5xx answers, timeouts or connection errors outlasted the bounded retries."""


class BlueskyRequestError(BlueskyExtractError, RequestError):
    """Any other 4xx: the XRPC call was refused (a bad handle, an unknown post).

    `error` is the XRPC error name (`InvalidRequest`, `NotFound`, ...) when one was sent.
    """

    def __init__(
        self, message: str, *, endpoint: str, status: int | None, error: str | None = None
    ):
        super().__init__(message, endpoint=endpoint, status=status)
        self.error = error


class BlueskyMalformedPageError(BlueskyExtractError, MalformedPageError):
    """A 200 body that is not JSON (a truncated transfer, a proxy's HTML page). `body` holds
    it as received, to be landed for the loader to reject with a reason."""
