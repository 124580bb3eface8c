"""Why a Reddit extract stopped. Every message names the endpoint and carries no secret.

Catch `RedditExtractError` to fail one account's task while the other accounts go on; the
subclasses say whether waiting (rate limit, outage) or a person (credential, request) is
what fixes it.
"""

from __future__ import annotations


class RedditExtractError(RuntimeError):
    """A Reddit extract for one account (or one subreddit search) could not finish."""

    def __init__(self, message: str, *, endpoint: str | None = None, status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class RedditAuthError(RedditExtractError):
    """401, or a refused token request: the app or the login was refused. Not retried."""


class RedditRateLimitError(RedditExtractError):
    """Still answered 429 after every allowed wait."""


class RedditUnavailableError(RedditExtractError):
    """5xx answers, timeouts or connection errors outlasted the bounded retries."""


class RedditRequestError(RedditExtractError):
    """Any other 4xx or API error: what was asked was refused (a missing user, a bad query)."""


class RedditMalformedPageError(RedditExtractError):
    """A 200 body that is not the JSON the endpoint promises (truncated, a proxy's page).

    `body` holds the bytes as received; the source yields them before raising, so the
    loader keeps them in ops.rejects with a reason.
    """

    def __init__(self, message: str, *, endpoint: str, body: bytes):
        super().__init__(message, endpoint=endpoint, status=200)
        self.body = body
