"""Reddit source: an account's mentions, inbox replies, comments and submissions, the
threads around them, and an optional keyword search in subreddits, pulled with the real
praw `Reddit` client.

    source = RedditApiSource(credentials)                          # the official hosts
    source = RedditApiSource(credentials, "http://127.0.0.1:8080")  # a proxy or a fake
    for page in source.pages(request, result):
        ...  # land page.body as received; result fills in while pages are consumed

`request.account` is either a Reddit username (`AcmeSupport`, `u/AcmeSupport`) or a
subreddit to search (`r/acme`: needs `search_keywords`). Endpoints (the
`ResponsePage.endpoint` of each page):
    "mentions"       GET /message/mentions        (the account's own login only)
    "inbox_replies"  GET /message/comments        (the account's own login only)
    "post_replies"   GET /message/selfreply       (the account's own login only)
    "comments"       GET /user/<name>/comments    sort=new
    "submissions"    GET /user/<name>/submitted   sort=new
    "search"         GET /r/<sub>/search          sort=new, the keywords OR-ed
    "threads"        GET /comments/<id>, then POST /api/morechildren (bounded replace_more)

The source is in `source.py`, HTTP and retries in `http.py`, reading raw answers in
`listings.py`, failures in `errors.py` (translated from praw's in `failures.py`);
README.md describes watermarks, ceilings and rate limits.
"""

from ingest.reddit.errors import (
    RedditAuthError,
    RedditExtractError,
    RedditMalformedPageError,
    RedditRateLimitError,
    RedditRequestError,
    RedditUnavailableError,
)
from ingest.reddit.http import RedditCredentials
from ingest.reddit.source import ENDPOINTS, RedditApiSource

__all__ = [
    "ENDPOINTS",
    "RedditApiSource",
    "RedditAuthError",
    "RedditCredentials",
    "RedditExtractError",
    "RedditMalformedPageError",
    "RedditRateLimitError",
    "RedditRequestError",
    "RedditUnavailableError",
]
