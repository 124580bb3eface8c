"""X (Twitter) API v2 source: an account's mentions, its own posts and replies, and the
threads they belong to, pulled with the real tweepy `Client` and `Paginator`.

    source = XApiSource(token)                         # https://api.twitter.com
    source = XApiSource(token, "http://127.0.0.1:8080")  # a proxy or a local fake server
    for page in source.pages(request, result):
        ...  # land page.body as received; result fills in while pages are consumed

Endpoints (the `ResponsePage.endpoint` of each page):
    "mentions"  GET /2/users/:id/mentions
    "tweets"    GET /2/users/:id/tweets
    "threads"   GET /2/tweets/search/recent, query conversation_id:<id> OR ...
    "authors"   GET /2/tweets?ids=..., the authors not stored yet ("bounded" reads)

The source is in `source.py`, HTTP and retries in `http.py`, paging in `paging.py`,
failures in `errors.py`, what a night reads in `thread_plan.py`, what X bills in
`billing.py`; README.md describes watermarks, ceilings and rate limits.
"""

from ingest.x.errors import (
    XAuthError,
    XExtractError,
    XMalformedPageError,
    XRateLimitError,
    XRequestError,
    XUnavailableError,
)
from ingest.x.source import ENDPOINTS, XApiSource

__all__ = [
    "ENDPOINTS",
    "XApiSource",
    "XAuthError",
    "XExtractError",
    "XMalformedPageError",
    "XRateLimitError",
    "XRequestError",
    "XUnavailableError",
]
