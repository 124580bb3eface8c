"""Simulated posts served as X API v2 response pages, byte-identical across runs.

Three endpoints per org account, named as the extract step names them, asked as the live
source (ingest/x) asks them, with the same read strategy (ingest/x/thread_plan.py):

- "mentions": GET /2/users/:id/mentions - posts by others that mention the account;
- "tweets":   GET /2/users/:id/tweets   - the account's own posts and replies;
- "threads":  GET /2/tweets/search/recent?query=conversation_id:... - the conversations
  of tonight's mentions and tweets, each from its stored bound or over the search window.

Timelines serve posts created in [backfill_start, until) with id > their since_id; a
search serves its conversations' posts from its since_id or start_time to `until`, never
older than 7 days. The simulated clock stands at `until` (a night is extracted as it
ends). Newest first, at most 100 per page, with the v2 envelope: data, includes.users
(the authors; "rescan" also the replied-to and mentioned users), meta (result_count,
newest_id, oldest_id, next_token when another page follows); a timeline with nothing new
answers {"meta": {"result_count": 0}}. Reads are billed as X bills them: each post and
user once per UTC day of the run. The 800-mention and 3200-post timeline caps are not
simulated; the recent-search window is, and is recorded in `result.ceilings`.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ingest.pages import ExtractRequest, ExtractResult, ResponsePage
from ingest.x.billing import DailyReads
from ingest.x.thread_plan import (
    ThreadSearch,
    author_lookups,
    check_strategy,
    plan_threads,
    utc_instant,
)

from .generator import SimulatedWorld
from .population import OrgAccount
from .posts import SEQUENCE_BITS, SPILL_DAYS, X_EPOCH_MS, Conversation, Post, day_start_ms

ENDPOINTS = ("mentions", "tweets", "threads", "authors")
PAGE_SIZE = 100
# The self-serve access levels' query limit, as the live source's default.
SEARCH_QUERY_MAX_CHARS = 512
_DAY_MS = 86_400_000
_TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

Selector = Callable[[Conversation], Iterable[Post]]


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _utc_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def _created_ms(post_id: int) -> int:
    """created_at in ms: the id's timestamp, truncated to the second as X shows it."""
    ms = (post_id >> SEQUENCE_BITS) + X_EPOCH_MS
    return ms - ms % 1000


def _selector(endpoint: str, user_id: str) -> Selector:
    def mentions_it(post: Post) -> bool:
        entities = post.get("entities")
        return entities is not None and any(m["id"] == user_id for m in entities["mentions"])

    if endpoint == "mentions":
        return lambda conversation: [
            post for post in conversation if post["author_id"] != user_id and mentions_it(post)
        ]
    return lambda conversation: [post for post in conversation if post["author_id"] == user_id]


def _newest_first(
    world: SimulatedWorld, select: Selector, low_ms: int, until_ms: int, since_id: int
) -> Iterator[tuple[int, Post]]:
    """Selected posts in the window, newest first, generating one day at a time.

    Days are walked backwards; a day's posts all come before its start + SPILL_DAYS, so
    once day D is generated nothing older can still produce a post at or after
    D + SPILL_DAYS - 1 days, and those posts are released in order. Memory stays at a few
    days of one account's posts, whatever the range.
    """
    if until_ms <= low_ms:
        return
    last_day = _utc_day(until_ms - 1)
    first_day = _utc_day(low_ms) - timedelta(days=SPILL_DAYS)
    pending: list[tuple[int, Post]] = []  # a heap of (-id, post)
    day = last_day
    while day >= first_day:
        for conversation in world.conversations(day):
            for post in select(conversation):
                post_id = int(post["id"])
                if post_id <= since_id:
                    continue
                created = _created_ms(post_id)
                if low_ms <= created < until_ms:
                    heapq.heappush(pending, (-post_id, post))
        # Days before this one end before this day's start + SPILL_DAYS - 1 days.
        final_ms = day_start_ms(day) + (SPILL_DAYS - 1) * _DAY_MS
        final_id = (final_ms - X_EPOCH_MS) << SEQUENCE_BITS
        while pending and -pending[0][0] >= final_id:
            negative_id, post = heapq.heappop(pending)
            yield -negative_id, post
        day -= timedelta(days=1)
    while pending:
        negative_id, post = heapq.heappop(pending)
        yield -negative_id, post


def _chunks(items: Iterator[tuple[int, Post]], size: int) -> Iterator[tuple[list[Post], bool]]:
    """Pages of `size`, each with whether another page follows (one item of lookahead)."""
    page: list[Post] = []
    for _, post in items:
        if len(page) == size:
            yield page, True
            page = []
        page.append(post)
    if page:
        yield page, False


def _next_token(account: str, endpoint: str, oldest_id: str) -> str:
    digest = hashlib.blake2b(f"{account}:{endpoint}:{oldest_id}".encode(), digest_size=20).digest()
    number = int.from_bytes(digest, "big")
    token = []
    while number:
        number, digit = divmod(number, 36)
        token.append(_TOKEN_ALPHABET[digit])
    return "".join(token)


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _page_users(
    world: SimulatedWorld, posts: list[Post], authors_only: bool = False
) -> list[dict[str, str]]:
    """includes.users: every author, replied-to and mentioned user (or only the authors),
    once, in order met."""
    users: list[dict[str, str]] = []
    seen: set[str] = set()
    lookup = world.population.user
    for post in posts:
        ids = [post["author_id"]]
        if "in_reply_to_user_id" in post and not authors_only:
            ids.append(post["in_reply_to_user_id"])
        if "entities" in post and not authors_only:
            ids.extend(mention["id"] for mention in post["entities"]["mentions"])
        for user_id in ids:
            if user_id in seen:
                continue
            seen.add(user_id)
            user = lookup(user_id)
            if user is not None:
                users.append(user.as_api())
    return users


def _page_body(posts: list[Post], users: list[dict[str, str]], next_token: str | None) -> bytes:
    meta: dict[str, Any] = {
        "newest_id": posts[0]["id"],
        "oldest_id": posts[-1]["id"],
        "result_count": len(posts),
    }
    if next_token is not None:
        meta["next_token"] = next_token
    return _encode({"data": posts, "includes": {"users": users}, "meta": meta})


def page_of(world: SimulatedWorld, posts: list[Post]) -> bytes:
    """One X API v2 page of `posts` (newest first) with their users, and no next page."""
    return _page_body(posts, _page_users(world, posts), None)


class _Night:
    """One extract run's state: the simulated clock, the bill so far, tonight's
    conversations and the conversations of each day met, generated once."""

    def __init__(self, world: SimulatedWorld, account: OrgAccount, request: ExtractRequest):
        self.world = world
        self.account = account
        self.request = request
        self.now = utc_instant(request.until)
        # "rescan" pages expand users; "bounded" ones none: unread authors are looked up
        self.expand_users = check_strategy(request.read_strategy) == "rescan"
        self.reads = DailyReads()
        self.conversations: set[str] = set()
        self.authors: dict[str, Post] = {}  # author id -> one post of theirs read tonight
        self.users_read: set[str] = set()
        self._days: dict[date, dict[str, Conversation]] = {}

    def conversation(self, conversation_id: str) -> Conversation:
        day = _utc_day(_created_ms(int(conversation_id)))
        if day not in self._days:
            self._days[day] = {c[0]["id"]: c for c in self.world.conversations(day) if c}
        return self._days[day].get(conversation_id, [])

    def page(
        self, endpoint: str, posts: list[Post], more: bool, result: ExtractResult
    ) -> ResponsePage:
        token = _next_token(self.account.user.username, endpoint, posts[-1]["id"]) if more else None
        users = _page_users(self.world, posts) if self.expand_users else []
        self.count(endpoint, posts, users, result)
        return ResponsePage(endpoint=endpoint, body=_page_body(posts, users, token))

    def count(
        self, endpoint: str, posts: list[Post], users: list[dict[str, str]], result: ExtractResult
    ) -> None:
        counts = result.endpoint(endpoint)
        result.requests += 1
        counts.requests += 1
        counts.pages += 1
        counts.posts += len(posts)
        counts.users += len(users)
        counts.billable_reads += self.reads.bill(
            "post", (p["id"] for p in posts), self.now
        ) + self.reads.bill("user", (u["id"] for u in users), self.now)
        for post in posts:
            self.authors.setdefault(post["author_id"], post)
        self.users_read.update(u["id"] for u in users)

    def empty_page(self, endpoint: str, result: ExtractResult) -> ResponsePage:
        counts = result.endpoint(endpoint)
        result.requests += 1
        counts.requests += 1
        counts.pages += 1
        return ResponsePage(endpoint=endpoint, body=_encode({"meta": {"result_count": 0}}))


def _timeline_pages(night: _Night, endpoint: str, result: ExtractResult) -> Iterator[ResponsePage]:
    request = night.request
    since = request.since_ids.get(endpoint)
    since_id = int(since) if since else 0
    until_ms = _epoch_ms(request.until)
    low_ms = _epoch_ms(request.backfill_start)
    if since_id:
        low_ms = max(low_ms, _created_ms(since_id))
    select = _selector(endpoint, night.account.user.id)
    served = False
    posts_in = _newest_first(night.world, select, low_ms, until_ms, since_id)
    for posts, more in _chunks(posts_in, PAGE_SIZE):
        if not served:
            result.watermarks[endpoint] = posts[0]["id"]
            served = True
        night.conversations.update(p["conversation_id"] for p in posts)
        yield night.page(endpoint, posts, more, result)
    if not served:
        if since:
            result.watermarks[endpoint] = str(since)
        yield night.empty_page(endpoint, result)


def _search_hits(night: _Night, search: ThreadSearch) -> Iterator[tuple[int, Post]]:
    """The search's posts, newest first: its conversations, inside its bounds and the
    7-day window recent search covers."""
    low_ms = _epoch_ms(night.now) - 7 * _DAY_MS
    if search.start_time is not None:
        low_ms = max(low_ms, _epoch_ms(search.start_time))
    since_id = int(search.since_id or 0)
    end_ms = _epoch_ms(search.end_time)
    hits = [
        (int(post["id"]), post)
        for conversation_id in search.conversation_ids
        for post in night.conversation(conversation_id)
        if int(post["id"]) > since_id and low_ms <= _created_ms(int(post["id"])) < end_ms
    ]
    return iter(sorted(hits, key=lambda hit: -hit[0]))


def _thread_pages(night: _Night, result: ExtractResult, max_chars: int) -> Iterator[ResponsePage]:
    endpoint = "threads"
    request = night.request
    result.endpoint(endpoint)
    plan = plan_threads(
        night.conversations, request, now=night.now, end=night.now, max_chars=max_chars
    )
    result.ceilings.extend(plan.ceilings)
    newest = [int(request.since_ids["threads"])] if request.since_ids.get(endpoint) else []
    for search in plan.searches:
        served = False
        for posts, more in _chunks(_search_hits(night, search), PAGE_SIZE):
            served = True
            newest.append(int(posts[0]["id"]))
            yield night.page(endpoint, posts, more, result)
        if not served:
            yield night.empty_page(endpoint, result)
    if newest:
        result.watermarks[endpoint] = str(max(newest))


def _author_pages(night: _Night, result: ExtractResult) -> Iterator[ResponsePage]:
    """GET /2/tweets?ids=...&expansions=author_id for the authors read tonight and not
    stored: a post of each, read again (not billed twice a day), with its author."""
    endpoint = "authors"
    result.endpoint(endpoint)
    unread = {a: p["id"] for a, p in night.authors.items() if a not in night.users_read}
    by_id = {post["id"]: post for post in night.authors.values()}
    request = night.request
    for batch in author_lookups(unread, request.stored_users, request.read_strategy):
        posts = [by_id[post_id] for post_id in batch]
        users = _page_users(night.world, posts, authors_only=True)
        night.count(endpoint, posts, users, result)
        yield ResponsePage(endpoint, _encode({"data": posts, "includes": {"users": users}}))


def serve_pages(
    world: SimulatedWorld, request: ExtractRequest, result: ExtractResult
) -> Iterator[ResponsePage]:
    """Validate `request` now, then stream its pages: mentions, tweets, threads in turn."""
    if request.platform != "x":
        raise ValueError(f"the simulated X source cannot serve platform {request.platform!r}")
    account = world.population.account(request.account)
    if account is None:
        configured = [a.user.username for accs in world.population.accounts.values() for a in accs]
        raise ValueError(
            f"{request.account!r} is not a configured X account of "
            f"{world.organization.name} (configured: {configured})"
        )

    def pages() -> Iterator[ResponsePage]:
        night = _Night(world, account, request)
        # the user lookup the live source starts with: one request, the account's user
        lookup = result.endpoint("user lookup")
        result.requests += 1
        lookup.requests += 1
        lookup.users += 1
        lookup.billable_reads += night.reads.bill("user", [account.user.id], night.now)
        for endpoint in ("mentions", "tweets"):
            yield from _timeline_pages(night, endpoint, result)
        yield from _thread_pages(night, result, SEARCH_QUERY_MAX_CHARS)
        yield from _author_pages(night, result)

    return pages()
