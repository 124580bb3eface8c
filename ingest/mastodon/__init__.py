"""Mastodon source: an account's mentions, its own statuses and replies, and the
conversations they belong to, pulled with the real Mastodon.py client.

    source = MastodonApiSource(token_for)                  # https://<instance> of each account
    source = MastodonApiSource(token_for, "http://127.0.0.1:8080")  # a gateway or a fake
    for page in source.pages(request, result):
        ...  # land page.body as received; result fills in while pages are consumed

Endpoints (the `ResponsePage.endpoint` of each page):
    "mentions"  GET /api/v1/notifications?types[]=mention   (with the account's token)
    "statuses"  GET /api/v1/accounts/:id/statuses?exclude_reblogs=true
    "threads"   GET /api/v1/statuses/:id/context            (each conversation's root)

The source is in `source.py`, HTTP and retries in `http.py`, failures in `errors.py`;
README.md describes watermarks, ceilings and rate limits.
"""

from ingest.mastodon.errors import (
    MastodonAuthError,
    MastodonExtractError,
    MastodonMalformedPageError,
    MastodonRateLimitError,
    MastodonRequestError,
    MastodonUnavailableError,
)
from ingest.mastodon.source import ENDPOINTS, MastodonApiSource

__all__ = [
    "ENDPOINTS",
    "MastodonApiSource",
    "MastodonAuthError",
    "MastodonExtractError",
    "MastodonMalformedPageError",
    "MastodonRateLimitError",
    "MastodonRequestError",
    "MastodonUnavailableError",
]
