"""The simulated world served as Mastodon API answers (ingest/formats/mastodon_api.py).

The organisation's Mastodon addresses stand where its X handles stand; customers get an
address on mastodon.social. Per org account, as the live Mastodon source names them:

- "mentions": GET /api/v1/notifications?types[]=mention, posts by others that mention it;
- "statuses": GET /api/v1/accounts/:id/statuses, its own posts and replies;
- "threads":  GET /api/v1/statuses/:id/context, for a reply found above (its ancestors
  name the root), then for each conversation's root (every reply below it).

Status ids are the generated post ids (time-ordered, as Mastodon's are), the same on every
instance; a notification's id is its status's. Items newer than the endpoint's since_id
watermark, created in [backfill_start, until), newest first, 40 a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

from ingest.pages import ExtractRequest, ExtractResult, ResponsePage

from .generator import SimulatedWorld
from .open_networks import Conversations, encode, org_user_id, parent_id
from .posts import Conversation, Post
from .x_api import _chunks, _created_ms, _epoch_ms, _newest_first, _selector

ENDPOINTS = ("mentions", "statuses", "threads")
PAGE_SIZE = 40
CUSTOMER_INSTANCE = "mastodon.social"


def _stamp(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _Renderer:
    """Generated posts as Mastodon Status entities, as `instance` serves them."""

    def __init__(self, world: SimulatedWorld, instance: str):
        self.world = world
        self.instance = instance

    def address(self, user_id: str) -> str:
        user = self.world.population.user(user_id)
        name = user.username if user else user_id
        return name.lower() if "@" in name else f"{name.lower()}@{CUSTOMER_INSTANCE}"

    def account(self, user_id: str) -> dict[str, Any]:
        address = self.address(user_id)
        user, home = address.split("@")
        return {
            "id": user_id,
            "username": user,
            "acct": user if home == self.instance else address,
            "url": f"https://{home}/@{user}",
        }

    def status(self, post: Post) -> dict[str, Any]:
        account = self.account(post["author_id"])
        home = self.address(post["author_id"]).split("@")[1]
        mentions = [
            self.account(m["id"]) for m in (post.get("entities") or {}).get("mentions") or []
        ]
        parent = parent_id(post)
        return {
            "id": post["id"],
            "uri": f"https://{home}/users/{account['username']}/statuses/{post['id']}",
            "created_at": _stamp(_created_ms(int(post["id"]))),
            "account": account,
            "content": f"<p>{escape(post['text'], quote=False)}</p>",
            "visibility": "public",
            "mentions": mentions,
            "in_reply_to_id": parent,
            "language": post.get("lang", "en"),
        }


class SimulatedMastodonApi:
    """Serves one org account's pages: mentions, statuses, then threads."""

    def __init__(self, world: SimulatedWorld, request: ExtractRequest, result: ExtractResult):
        self.world = world
        self.request = request
        self.result = result
        self.instance = request.account.rsplit("@", 1)[-1].lower()
        self.render = _Renderer(world, self.instance)
        self.until_ms = _epoch_ms(request.until)
        self.conversations = Conversations(world)
        self.found: dict[str, Post] = {}  # statuses met, in order

    def pages(self, user_id: str) -> Iterator[ResponsePage]:
        mentions = _selector("mentions", user_id)
        own = _selector("tweets", user_id)
        yield from self._listing(
            "mentions",
            mentions,
            lambda post: {
                "id": post["id"],
                "type": "mention",
                "created_at": _stamp(_created_ms(int(post["id"]))),
                "account": self.render.account(post["author_id"]),
                "status": self.render.status(post),
            },
        )
        yield from self._listing("statuses", own, self.render.status)
        yield from self._threads()

    def _page(self, endpoint: str, body: Any, posts: int) -> ResponsePage:
        counts = self.result.endpoint(endpoint)
        self.result.requests += 1
        counts.requests += 1
        counts.pages += 1
        counts.posts += posts
        return ResponsePage(endpoint, encode(body))

    def _listing(self, endpoint: str, select, item) -> Iterator[ResponsePage]:
        since = self.request.since_ids.get(endpoint)
        since_id = int(since) if since else 0
        if since:
            self.result.watermarks[endpoint] = since
        low_ms = _epoch_ms(self.request.backfill_start)
        newest = _newest_first(self.world, select, low_ms, self.until_ms, since_id)
        served = False
        for posts, _ in _chunks(newest, PAGE_SIZE):
            if not served:
                self.result.watermarks[endpoint] = posts[0]["id"]
                served = True
            for post in posts:
                self.found.setdefault(post["id"], post)
            yield self._page(endpoint, [item(post) for post in posts], len(posts))
        if not served:
            yield self._page(endpoint, [], 0)

    def _threads(self) -> Iterator[ResponsePage]:
        self.result.endpoint("threads")
        roots: dict[str, None] = {}
        for post in self.found.values():
            root = post["conversation_id"]
            if root not in roots and post["id"] != root:
                yield self._context(post, self.conversations.of(root))
            roots.setdefault(root)
        for root in roots:
            conversation = self.conversations.of(root)
            yield self._context(conversation[0], conversation)

    def _context(self, post: Post, conversation: Conversation) -> ResponsePage:
        served = [p for p in conversation if _created_ms(int(p["id"])) < self.until_ms]
        by_id = {p["id"]: p for p in served}
        ancestors: list[Post] = []
        parent = parent_id(post)
        while parent in by_id:
            ancestors.insert(0, by_id[parent])
            parent = parent_id(by_id[parent])
        below: list[Post] = []
        frontier = {post["id"]}
        while frontier:
            children = [p for p in served if parent_id(p) in frontier]
            below.extend(children)
            frontier = {p["id"] for p in children}
        below.sort(key=lambda p: int(p["id"]))
        body = {
            "ancestors": [self.render.status(p) for p in ancestors],
            "descendants": [self.render.status(p) for p in below],
        }
        return self._page("threads", body, len(ancestors) + len(below))


def serve_mastodon_pages(
    world: SimulatedWorld, request: ExtractRequest, result: ExtractResult
) -> Iterator[ResponsePage]:
    """Validate `request` now, then stream its pages."""
    return SimulatedMastodonApi(world, request, result).pages(
        org_user_id(world, request, "mastodon")
    )
