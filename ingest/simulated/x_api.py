"""Simulated posts served as X API v2 response pages, byte-identical across runs.

Three endpoints per org account, named as the extract step names them:

- "mentions": GET /2/users/:id/mentions - posts by others that mention the account;
- "tweets":   GET /2/users/:id/tweets   - the account's own posts and replies;
- "threads":  GET /2/tweets/search/recent?query=conversation_id:... - every post of every
  conversation the account took part in (wrote in or was mentioned in before `until`).

Each endpoint serves posts created in [backfill_start, until) with id > its since_id,
newest first, at most 100 per page, with the v2 envelope: data, includes.users, meta
(result_count, newest_id, oldest_id, next_token when another page follows); an endpoint
with nothing new answers {"meta": {"result_count": 0}}. API ceilings (800 newest mentions,
7 days of recent search) are not simulated, so `result.ceilings` stays empty.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ingest.pages import ExtractRequest, ExtractResult, ResponsePage

from .generator import SimulatedWorld
from .population import OrgAccount
from .posts import SEQUENCE_BITS, SPILL_DAYS, X_EPOCH_MS, Conversation, Post, day_start_ms

ENDPOINTS = ("mentions", "tweets", "threads")
PAGE_SIZE = 100
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


def _selector(endpoint: str, user_id: str, until_ms: int) -> Selector:
    def mentions_it(post: Post) -> bool:
        entities = post.get("entities")
        return entities is not None and any(m["id"] == user_id for m in entities["mentions"])

    if endpoint == "mentions":
        return lambda conversation: [
            post for post in conversation if post["author_id"] != user_id and mentions_it(post)
        ]
    if endpoint == "tweets":
        return lambda conversation: [post for post in conversation if post["author_id"] == user_id]

    def threads(conversation: Conversation) -> Iterable[Post]:
        for post in conversation:
            if _created_ms(int(post["id"])) >= until_ms:
                continue
            if post["author_id"] == user_id or mentions_it(post):
                return conversation
        return ()

    return threads


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


def _page_users(world: SimulatedWorld, posts: list[Post]) -> list[dict[str, str]]:
    """includes.users: every author, replied-to and mentioned user, once, in order met."""
    users: list[dict[str, str]] = []
    seen: set[str] = set()
    lookup = world.population.user
    for post in posts:
        ids = [post["author_id"]]
        if "in_reply_to_user_id" in post:
            ids.append(post["in_reply_to_user_id"])
        if "entities" in post:
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


def _endpoint_pages(
    world: SimulatedWorld,
    account: OrgAccount,
    endpoint: str,
    request: ExtractRequest,
    result: ExtractResult,
) -> Iterator[ResponsePage]:
    since = request.since_ids.get(endpoint)
    since_id = int(since) if since else 0
    until_ms = _epoch_ms(request.until)
    low_ms = _epoch_ms(request.backfill_start)
    if since_id:
        low_ms = max(low_ms, _created_ms(since_id))
    select = _selector(endpoint, account.user.id, until_ms)
    counts = result.endpoint(endpoint)
    served = False
    for posts, more in _chunks(_newest_first(world, select, low_ms, until_ms, since_id), PAGE_SIZE):
        if not served:
            result.watermarks[endpoint] = posts[0]["id"]
            served = True
        token = _next_token(account.user.username, endpoint, posts[-1]["id"]) if more else None
        users = _page_users(world, posts)
        result.requests += 1
        counts.requests += 1
        counts.pages += 1
        counts.posts += len(posts)
        counts.users += len(users)
        # billed as the live X API bills reads: per post and per user returned
        counts.billable_reads += len(posts) + len(users)
        yield ResponsePage(endpoint=endpoint, body=_page_body(posts, users, token))
    if not served:
        if since:
            result.watermarks[endpoint] = str(since)
        result.requests += 1
        counts.requests += 1
        counts.pages += 1
        yield ResponsePage(endpoint=endpoint, body=_encode({"meta": {"result_count": 0}}))


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
        for endpoint in ENDPOINTS:
            yield from _endpoint_pages(world, account, endpoint, request, result)

    return pages()
