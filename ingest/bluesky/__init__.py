"""Bluesky source: an account's identity (its DID), the posts that mention or answer it,
its own posts and replies, and the threads they belong to, pulled with the real atproto
SDK `Client`.

    source = BlueskyApiSource(BlueskyCredentials("acme.bsky.social", app_password))
    source = BlueskyApiSource(None, "http://127.0.0.1:8080")  # no login; a fake server
    for page in source.pages(request, result):
        ...  # land page.body as received; result fills in while pages are consumed

Endpoints (the `ResponsePage.endpoint` of each page):
    "identity"  com.atproto.identity.resolveHandle
    "mentions"  app.bsky.notification.listNotifications (reasons mention, reply, quote),
                or app.bsky.feed.searchPosts (mentions=<handle>) without the app password
    "posts"     app.bsky.feed.getAuthorFeed (filter posts_with_replies)
    "threads"   app.bsky.feed.getPostThread on each thread root

The source is in `source.py`, HTTP and retries in `http.py`, failures in `errors.py`;
README.md describes watermarks, ceilings and rate limits.
"""

from ingest.bluesky.errors import (
    BlueskyAuthError,
    BlueskyExtractError,
    BlueskyMalformedPageError,
    BlueskyRateLimitError,
    BlueskyRequestError,
    BlueskyUnavailableError,
)
from ingest.bluesky.source import ENDPOINTS, BlueskyApiSource, BlueskyCredentials

__all__ = [
    "ENDPOINTS",
    "BlueskyApiSource",
    "BlueskyAuthError",
    "BlueskyCredentials",
    "BlueskyExtractError",
    "BlueskyMalformedPageError",
    "BlueskyRateLimitError",
    "BlueskyRequestError",
    "BlueskyUnavailableError",
]
