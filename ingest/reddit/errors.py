"""Why a Reddit extract stopped. Every message names the endpoint and carries no secret.

Catch `RedditExtractError` to fail one account's task while the other accounts go on. Each
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


class RedditExtractError(ExtractError):
    """A Reddit extract for one account (or one subreddit search) could not finish."""


class RedditAuthError(RedditExtractError, AuthError):
    """401, or a refused token request: the app or the login was refused. Not retried."""


class RedditRateLimitError(RedditExtractError, RateLimitError):
    """Still answered 429 after every allowed wait."""


class RedditUnavailableError(RedditExtractError, UnavailableError):
    """5xx answers, timeouts or connection errors outlasted the bounded retries."""


class RedditRequestError(RedditExtractError, RequestError):
    """Any other 4xx or API error: what was asked was refused (a missing user, a bad query)."""


class RedditMalformedPageError(RedditExtractError, MalformedPageError):
    """A 200 body that is not the JSON the endpoint promises (truncated, a proxy's page).

    `body` holds the bytes as received; the source yields them before raising, so the
    loader keeps them in ops.rejects with a reason.
    """
