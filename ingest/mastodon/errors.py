"""Why a Mastodon extract stopped. Every message names the endpoint and never the token.

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


class MastodonExtractError(ExtractError):
    """A Mastodon extract for one account could not finish."""


class MastodonAuthError(MastodonExtractError, AuthError):
    """401/403: the access token was refused. Nothing is retried."""


class MastodonRateLimitError(MastodonExtractError, RateLimitError):
    """Still answered 429 after every allowed wait."""


class MastodonUnavailableError(MastodonExtractError, UnavailableError):
    """5xx answers, timeouts or connection errors outlasted the bounded retries."""


class MastodonRequestError(MastodonExtractError, RequestError):
    """Any other 4xx: the instance refused what was asked (an unknown account or status)."""


class MastodonMalformedPageError(MastodonExtractError, MalformedPageError):
    """A 200 body that is not JSON (a truncated transfer, a proxy's HTML page). `body` holds
    it as received, to be landed for the loader to reject with a reason."""
