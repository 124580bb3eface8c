"""Why an X extract stopped. Every message names the endpoint and never carries the token.

Catch `XExtractError` to fail one account's task while the other accounts go on; the
subclasses say whether waiting (rate limit, outage) or a person (credential, request) is
what fixes it.
"""

from __future__ import annotations


class XExtractError(RuntimeError):
    """An X extract for one account could not finish."""

    def __init__(self, message: str, *, endpoint: str | None = None, status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class XAuthError(XExtractError):
    """401/403: the bearer token was refused. Retrying cannot help, so nothing is retried."""


class XRateLimitError(XExtractError):
    """Still answered 429 after every allowed wait."""


class XUnavailableError(XExtractError):
    """5xx answers, timeouts or connection errors outlasted the bounded retries."""


class XRequestError(XExtractError):
    """Any other 4xx: the API rejected what was asked (a bad parameter, a missing user)."""


class XMalformedPageError(XExtractError):
    """A 200 body that is not a JSON object (a truncated transfer, a proxy's HTML page).

    `body` holds the bytes as received, so the caller can land them for the loader to
    reject with a reason.
    """

    def __init__(self, message: str, *, endpoint: str, page: int, body: bytes):
        super().__init__(message, endpoint=endpoint, status=200)
        self.page = page
        self.body = body
