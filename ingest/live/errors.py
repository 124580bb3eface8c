"""Why a live extract stopped, and whether waiting can heal it.

Every source's error tree derives from `ExtractError`, and each of its kinds from one of
the kinds here, so a caller (the DAG, the CLI) needs no source's names: `retryable` says
whether a later attempt may succeed (a rate limit, an outage, a truncated transfer) or a
person has to act first (a refused or missing credential, a request the API rejects).
"""

from __future__ import annotations

import json
from collections.abc import Callable


class ExtractError(RuntimeError):
    """One account's extract could not finish. The message names what and carries no secret."""

    retryable = True

    def __init__(self, message: str, *, endpoint: str | None = None, status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class AuthError(ExtractError):
    """A credential is missing or was refused (401, 403): retrying cannot help."""

    retryable = False


class RateLimitError(ExtractError):
    """Still answered 429 after every allowed wait."""


class UnavailableError(ExtractError):
    """5xx answers, timeouts or connection errors outlasted the bounded retries."""


class RequestError(ExtractError):
    """The API rejected what was asked (a bad parameter, a missing user): fix the request."""

    retryable = False


class MalformedPageError(ExtractError):
    """A 200 body that is not what the endpoint promises (a truncated transfer, a proxy's
    HTML page).

    `body` holds the bytes as received, so the source can land them for the loader to
    reject with a reason; `page` is the page's number within its pagination, when known.
    """

    def __init__(self, message: str, *, endpoint: str, body: bytes, page: int | None = None):
        super().__init__(message, endpoint=endpoint, status=200)
        self.body = body
        self.page = page


def require_json(
    body: bytes, kind: type[MalformedPageError], describe: Callable[[str], str], endpoint: str
) -> bytes:
    """`body` if it parses as JSON; else `kind`, carrying the body so the source can land it
    for the loader to reject with the parser's reason."""
    try:
        json.loads(body)
    except ValueError:
        raise kind(
            describe(f"HTTP 200 answer is not valid JSON ({len(body)} bytes)"),
            endpoint=endpoint,
            body=body,
        ) from None
    return body
