"""Why an X extract stopped. Every message names the endpoint and never carries the token.

Catch `XExtractError` to fail one account's task while the other accounts go on. Each
kind derives from the kit's (`ingest.live.errors`) as well, whose `retryable` says
whether waiting (rate limit, outage) or a person (credential, request) is what fixes it.
"""

from __future__ import annotations

from ingest.live.errors import (
    AuthError,
    ExtractError,
    MalformedPageError,
    RateLimitError,
    RequestError,
    UnavailableError,
)


class XExtractError(ExtractError):
    """An X extract for one account could not finish."""


class XAuthError(XExtractError, AuthError):
    """401/403: the bearer token was refused. Retrying cannot help, so nothing is retried."""


class XRateLimitError(XExtractError, RateLimitError):
    """Still answered 429 after every allowed wait."""


class XUnavailableError(XExtractError, UnavailableError):
    """5xx answers, timeouts or connection errors outlasted the bounded retries."""


class XRequestError(XExtractError, RequestError):
    """Any other 4xx: the API rejected what was asked (a bad parameter, a missing user)."""


class XMalformedPageError(XExtractError, MalformedPageError):
    """A 200 body that is not a JSON object (a truncated transfer, a proxy's HTML page).

    `body` holds the bytes as received and `page` its number, so the caller can land them
    for the loader to reject with a reason.
    """

    page: int  # X always knows which page of its pagination broke

    def __init__(self, message: str, *, endpoint: str, body: bytes, page: int):
        super().__init__(message, endpoint=endpoint, body=body, page=page)
