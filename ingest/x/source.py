"""XApiSource: one account's mentions, own posts and replies, and their threads.

The public face is `ingest.x`; HTTP and retries are in `http.py`, paging in `paging.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from ingest.formats.x_api_v2 import snowflake_time
from ingest.live import RetryPolicy, as_utc, check_timeout, stamp
from ingest.pages import EndpointCounts, ExtractRequest, ExtractResult, ResponsePage
from ingest.x.billing import DailyReads
from ingest.x.errors import (
    XMalformedPageError,
    XRequestError,
    XUnavailableError,
)
from ingest.x.http import (
    OFFICIAL_BASE_URL,
    RequestRunner,
    RoutedSession,
    install_tweepy_log_redaction,
)
from ingest.x.paging import Page, fetch_page, fetch_pages, parse_body
from ingest.x.thread_plan import (
    EXPANSIONS,
    author_lookups,
    check_strategy,
    plan_threads,
)

ENDPOINTS = ("mentions", "tweets", "threads", "authors")
ROUTES = {
    "user lookup": "/2/users/by/username/:username",
    "mentions": "/2/users/:id/mentions",
    "tweets": "/2/users/:id/tweets",
    "threads": "/2/tweets/search/recent",
    "authors": "/2/tweets",
}

# What staging needs; anything not asked for is simply absent from the response.
TWEET_FIELDS = [
    "author_id",
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "lang",
]
USER_FIELDS = ["username", "name"]
MAX_RESULTS = 100

# The API serves no deeper than this, whatever since_id or start_time asks for.
TIMELINE_CAPS = {"mentions": 800, "tweets": 3200}
# Recent search refuses an end_time less than 10 seconds before the request.
SEARCH_END_DELAY = timedelta(seconds=15)
# The query limit of the self-serve access levels; Pro and Enterprise allow 4096.
SEARCH_QUERY_MAX_CHARS = 512

_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")


class XApiSource:
    """A `PageSource` for X: one `pages()` call extracts one account.

    `session` is an optional `requests.Session` that sends the requests (its proxies,
    certificates and adapters are used as they are); requests meant for the official host
    are sent to `base_url` instead. Waits are bounded: `max_retries` retries per request
    (429, 5xx, timeouts, connection errors), exponential backoff from `backoff_seconds`,
    and no single rate-limit wait longer than `max_rate_limit_wait_seconds`.

    Every run fills `result.endpoints` ("user lookup" and each endpoint of `ENDPOINTS`);
    `stats` holds the counts of `ENDPOINTS` of the last run.
    """

    platform = "x"

    def __init__(
        self,
        bearer_token: str,
        base_url: str | None = None,
        *,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_rate_limit_wait_seconds: float = 900,
        request_timeout_seconds: float = 30,
        session: requests.Session | None = None,
        search_query_max_chars: int = SEARCH_QUERY_MAX_CHARS,
        token_hint: str = "the bearer token given to XApiSource",
    ):
        if not bearer_token:
            raise ValueError("X bearer token is empty")
        if search_query_max_chars < len("conversation_id:") + 19:
            raise ValueError("search_query_max_chars is too small for one conversation")
        self._bearer_token = bearer_token
        self.base_url = (base_url or OFFICIAL_BASE_URL).rstrip("/")
        self.retry_policy = RetryPolicy(max_retries, backoff_seconds, max_rate_limit_wait_seconds)
        self.request_timeout_seconds = check_timeout(request_timeout_seconds)
        self.token_hint = token_hint
        self.search_query_max_chars = search_query_max_chars
        self._transport = session
        self.stats: dict[str, EndpointCounts] = {}
        install_tweepy_log_redaction()

    def __repr__(self) -> str:
        return f"XApiSource(base_url={self.base_url!r})"

    def pages(self, request: ExtractRequest, result: ExtractResult) -> Iterator[ResponsePage]:
        """Yield mentions, then tweets, then threads pages (newest first within each).

        `result.watermarks` starts at the request's since_ids and an endpoint's watermark
        moves only once that endpoint finished, so a run that raises leaves watermarks that
        are safe to reuse. A page whose body is not JSON is yielded, then
        `XMalformedPageError` is raised and nothing more is fetched for the account.
        """
        account = request.account.strip().lstrip("@")
        if not _USERNAME.match(account):
            raise XRequestError(
                f"X account {request.account!r} is not a valid username (letters, digits, "
                "underscore; at most 15)",
                endpoint="user lookup",
            )
        # Every endpoint gets its row, also one a failure never let run: a visible zero.
        for endpoint in ("user lookup", *ENDPOINTS):
            result.endpoint(endpoint)
        self.stats = {endpoint: result.endpoints[endpoint] for endpoint in ENDPOINTS}
        self._reads = DailyReads()
        self._expansions = EXPANSIONS[check_strategy(request.read_strategy)]
        # author id -> one post of theirs read tonight; the users landed tonight (the user
        # lookup's answer is not landed: the account's own object is looked up like any)
        self._authors: dict[str, str] = {}
        self._users_read: set[str] = set()
        for endpoint in ENDPOINTS:
            if request.since_ids.get(endpoint):
                result.watermarks[endpoint] = request.since_ids[endpoint]

        runner = RequestRunner(
            self.retry_policy,
            secret=self._bearer_token,
            account=account,
            token_hint=self.token_hint,
            on_attempt=result.count_attempt,
            on_rate_limited=result.count_rate_limited,
        )
        with RoutedSession(self.base_url, self.request_timeout_seconds, self._transport) as session:
            client = tweepy.Client(
                bearer_token=self._bearer_token,
                return_type=requests.Response,
                wait_on_rate_limit=False,
            )
            client.session = session
            user_id = self._user_id(client, runner, account)
            lookup = result.endpoint("user lookup")
            lookup.users += 1
            lookup.billable_reads += self._reads.bill("user", [user_id], datetime.now(UTC))
            conversations: set[str] = set()
            timelines = (
                ("mentions", client.get_users_mentions),
                ("tweets", client.get_users_tweets),
            )
            for endpoint, method in timelines:
                yield from self._timeline(
                    endpoint, method, user_id, request, result, runner, conversations
                )
            yield from self._threads(client, request, result, runner, conversations)
            yield from self._author_pages(client, request, runner)

    def _user_id(self, client: Any, runner: RequestRunner, account: str) -> str:
        endpoint = "user lookup"
        route = ROUTES[endpoint]
        response = runner.run(
            endpoint, route, lambda: client.get_user(username=account, user_fields=USER_FIELDS)
        )
        try:
            document = parse_body(response.content)
        except ValueError as exc:
            raise XUnavailableError(
                runner.message(endpoint, route, f"answer is not valid JSON ({exc})"),
                endpoint=endpoint,
                status=response.status_code,
            ) from None
        user = document.get("data") or {}
        if not user.get("id"):
            details = "; ".join(
                str(error.get("detail") or error.get("title"))
                for error in document.get("errors") or []
                if isinstance(error, dict)
            )
            raise XRequestError(
                runner.message(
                    endpoint, route, "no such user" + (f" ({details[:300]})" if details else "")
                ),
                endpoint=endpoint,
                status=response.status_code,
            )
        return str(user["id"])

    def _timeline(
        self,
        endpoint: str,
        method: Any,
        user_id: str,
        request: ExtractRequest,
        result: ExtractResult,
        runner: RequestRunner,
        conversations: set[str],
    ) -> Iterator[ResponsePage]:
        since_id = request.since_ids.get(endpoint)
        until = as_utc(request.until)
        params: dict[str, Any] = {
            "tweet_fields": TWEET_FIELDS,
            "expansions": self._expansions,
            "user_fields": USER_FIELDS,
            "max_results": MAX_RESULTS,
            "end_time": until,
        }
        if since_id:
            params["since_id"] = since_id
        else:
            start = as_utc(request.backfill_start)
            if start >= until:
                return
            params["start_time"] = start
        pages = fetch_pages(
            method, user_id, endpoint=endpoint, route=ROUTES[endpoint], runner=runner, **params
        )
        received: list[Page] = []
        for page in self._consume(endpoint, pages):
            received.append(page)
            conversations.update(
                str(post["conversation_id"]) for post in page.posts if post.get("conversation_id")
            )
            yield ResponsePage(endpoint, page.body)
        self._advance_watermark(endpoint, received, result)

        cap = TIMELINE_CAPS[endpoint]
        returned = sum(len(page.posts) for page in received)
        if returned >= cap:
            oldest_ids = [
                int(page.document["meta"]["oldest_id"])
                for page in received
                if (page.document.get("meta") or {}).get("oldest_id")
            ]
            older_than = (
                f" older than {stamp(snowflake_time(min(oldest_ids)))}" if oldest_ids else ""
            )
            bound = f"since_id {since_id}" if since_id else f"start {stamp(params['start_time'])}"
            result.ceilings.append(
                f"{endpoint}: the API serves only the {cap} newest posts; {returned} returned, "
                f"posts{older_than} back to {bound} are missing"
            )

    def _threads(
        self,
        client: Any,
        request: ExtractRequest,
        result: ExtractResult,
        runner: RequestRunner,
        conversations: set[str],
    ) -> Iterator[ResponsePage]:
        endpoint = "threads"
        now = datetime.now(UTC)
        end = min(as_utc(request.until), now - SEARCH_END_DELAY)
        plan = plan_threads(
            conversations, request, now=now, end=end, max_chars=self.search_query_max_chars
        )
        result.ceilings.extend(plan.ceilings)
        received: list[Page] = []
        for search in plan.searches:
            bound: dict[str, Any] = (
                {"since_id": search.since_id}
                if search.since_id
                else {"start_time": search.start_time}
            )
            pages = fetch_pages(
                client.search_recent_tweets,
                search.query,
                endpoint=endpoint,
                route=ROUTES[endpoint],
                runner=runner,
                tweet_fields=TWEET_FIELDS,
                expansions=self._expansions,
                user_fields=USER_FIELDS,
                max_results=MAX_RESULTS,
                end_time=end,
                **bound,
            )
            for page in self._consume(endpoint, pages):
                received.append(page)
                yield ResponsePage(endpoint, page.body)
        self._advance_watermark(endpoint, received, result)

    def _consume(self, endpoint: str, pages: Iterator[Page]) -> Iterator[Page]:
        stats = self.stats[endpoint]
        try:
            for page in pages:
                includes = page.document.get("includes") or {}
                included_posts = len(includes.get("tweets") or [])
                users = len(includes.get("users") or [])
                stats.pages += 1
                stats.posts += len(page.posts)
                stats.included_posts += included_posts
                stats.users += users
                stats.api_errors += len(page.document.get("errors") or [])
                stats.billable_reads += self._bill(page.document)
                yield page
        except XMalformedPageError as broken:
            # Landed so the loader can reject it with a reason; then the account stops.
            stats.pages += 1
            yield Page(broken.page, broken.body, {})
            raise

    def _author_pages(
        self, client: Any, request: ExtractRequest, runner: RequestRunner
    ) -> Iterator[ResponsePage]:
        """The user objects of tonight's authors not stored yet: posts read tonight looked
        up again with their authors expanded (the posts are not billed twice a day)."""
        endpoint = "authors"
        unread = {a: p for a, p in self._authors.items() if a not in self._users_read}
        for batch in author_lookups(unread, request.stored_users, request.read_strategy):
            page = fetch_page(
                client.get_tweets,
                batch,
                endpoint=endpoint,
                route=ROUTES[endpoint],
                runner=runner,
                tweet_fields=TWEET_FIELDS,
                expansions=["author_id"],
                user_fields=USER_FIELDS,
            )
            for consumed in self._consume(endpoint, iter([page])):
                yield ResponsePage(endpoint, consumed.body)

    def _bill(self, document: dict[str, Any]) -> int:
        """X bills every post and user returned, each once per UTC day (billing.py)."""
        includes = document.get("includes") or {}
        now = datetime.now(UTC)
        posts = [*(document.get("data") or []), *(includes.get("tweets") or [])]
        users = includes.get("users") or []
        for post in posts:
            if isinstance(post, dict) and post.get("author_id") and post.get("id"):
                self._authors.setdefault(str(post["author_id"]), str(post["id"]))
        self._users_read.update(_ids(users))
        return self._reads.bill("post", _ids(posts), now) + self._reads.bill(
            "user", _ids(users), now
        )

    @staticmethod
    def _advance_watermark(endpoint: str, received: list[Page], result: ExtractResult) -> None:
        ids = [int(page.newest_id) for page in received if page.newest_id]
        previous = result.watermarks.get(endpoint)
        if previous:
            ids.append(int(previous))
        if ids:
            result.watermarks[endpoint] = str(max(ids))


def _ids(resources: list[Any]) -> list[str]:
    return [str(r["id"]) for r in resources if isinstance(r, dict) and r.get("id")]
