"""The simulated world served as Bluesky XRPC answers (ingest/formats/bluesky_xrpc.py).

The same generator plants the same structures: the organisation's Bluesky handles stand
where its X handles stand, and every generated post is turned into an
app.bsky.feed.post. Per org account, as the live Bluesky source names them:

- "identity": com.atproto.identity.resolveHandle, the account's DID;
- "mentions": app.bsky.notification.listNotifications, posts by others that mention the
  account (reason "reply" when they answer one of its posts, else "mention");
- "posts":    app.bsky.feed.getAuthorFeed, the account's own posts and replies;
- "threads":  app.bsky.feed.getPostThread on the root of every thread the two above found.

Posts created in [backfill_start, until) after the endpoint's watermark (the newest
indexedAt served before), newest first, 100 a page with a cursor. Bluesky's API is free,
so nothing is billed; its ceilings are not simulated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ingest.pages import ExtractRequest, ExtractResult, ResponsePage

from .generator import SimulatedWorld
from .open_networks import Conversations, encode, org_user_id, parent_id
from .posts import Conversation, Post
from .x_api import PAGE_SIZE, _chunks, _created_ms, _epoch_ms, _newest_first, _selector

ENDPOINTS = ("identity", "mentions", "posts", "threads")
# The sortable base32 of AT Protocol record keys (TIDs)
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_DID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _did(user_id: str) -> str:
    number = int.from_bytes(hashlib.sha256(f"bsky:{user_id}".encode()).digest()[:15], "big")
    return "did:plc:" + "".join(_DID_ALPHABET[(number >> (5 * i)) & 31] for i in range(24))


def _handle(username: str) -> str:
    """Org accounts are configured by handle; a customer's X-style name gets bsky.social."""
    if "." in username:
        return username.lower()
    return username.lower().replace("_", "-") + ".bsky.social"


def _rkey(post_id: str) -> str:
    number = int(post_id)
    return "".join(_TID_ALPHABET[(number >> (5 * (12 - i))) & 31] for i in range(13))


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Renderer:
    """Generated posts as postViews, notifications and threads."""

    def __init__(self, world: SimulatedWorld):
        self.world = world

    def uri(self, post_id: str, author_id: str) -> str:
        return f"at://{_did(author_id)}/app.bsky.feed.post/{_rkey(post_id)}"

    def author(self, user_id: str) -> dict[str, Any]:
        user = self.world.population.user(user_id)
        name = user.username if user else user_id
        return {
            "did": _did(user_id),
            "handle": _handle(name),
            "displayName": user.name if user else "",
        }

    def strong_ref(self, post_id: str, conversation: Conversation) -> dict[str, str]:
        author = next(p["author_id"] for p in conversation if p["id"] == post_id)
        uri = self.uri(post_id, author)
        return {"uri": uri, "cid": "bafyrei" + _did(uri)[8:]}

    def record(self, post: Post, conversation: Conversation) -> dict[str, Any]:
        text = post["text"]
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": _stamp(_created_ms(int(post["id"]))),
            "langs": [post.get("lang", "en")],
        }
        mentions = (post.get("entities") or {}).get("mentions") or []
        if mentions:
            record["facets"] = [
                {
                    "index": {
                        "byteStart": len(text[: m["start"]].encode()),
                        "byteEnd": len(text[: m["end"]].encode()),
                    },
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": _did(m["id"])}
                    ],
                }
                for m in mentions
            ]
        parent = parent_id(post)
        if parent is not None:
            record["reply"] = {
                "root": self.strong_ref(post["conversation_id"], conversation),
                "parent": self.strong_ref(parent, conversation),
            }
        return record

    def view(self, post: Post, conversation: Conversation) -> dict[str, Any]:
        uri = self.uri(post["id"], post["author_id"])
        replies = sum(1 for p in conversation if parent_id(p) == post["id"])
        return {
            "uri": uri,
            "cid": "bafyrei" + _did(uri)[8:],
            "author": self.author(post["author_id"]),
            "record": self.record(post, conversation),
            "replyCount": replies,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": _stamp(_created_ms(int(post["id"]))),
            "labels": [],
        }

    def thread(self, post: Post, conversation: Conversation, until_ms: int) -> dict[str, Any]:
        replies = [
            p
            for p in conversation
            if parent_id(p) == post["id"] and _created_ms(int(p["id"])) < until_ms
        ]
        return {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": self.view(post, conversation),
            "replies": [self.thread(reply, conversation, until_ms) for reply in replies],
        }


class SimulatedBlueskyApi:
    """Serves one org account's pages: identity, mentions, posts, then threads."""

    def __init__(self, world: SimulatedWorld, request: ExtractRequest, result: ExtractResult):
        self.world = world
        self.request = request
        self.result = result
        self.render = _Renderer(world)
        self.until_ms = _epoch_ms(request.until)
        self.roots: dict[str, None] = {}  # ordered: threads are fetched in the order met
        self.conversations = Conversations(world)

    def pages(self, user_id: str) -> Iterator[ResponsePage]:
        yield self._page("identity", {"did": _did(user_id)}, posts=0)
        select_mentions = _selector("mentions", user_id)
        select_own = _selector("tweets", user_id)
        yield from self._listing("mentions", select_mentions, self._notification(user_id))
        yield from self._listing("posts", select_own, lambda post, c: {"post": self._view(post)})
        yield from self._threads()

    def _page(self, endpoint: str, body: dict[str, Any], posts: int) -> ResponsePage:
        counts = self.result.endpoint(endpoint)
        self.result.requests += 1
        counts.requests += 1
        counts.pages += 1
        counts.posts += posts
        return ResponsePage(endpoint, encode(body))

    def _view(self, post: Post) -> dict[str, Any]:
        return self.render.view(post, self._conversation(post))

    def _notification(self, user_id: str):
        def notification(post: Post, conversation: Conversation) -> dict[str, Any]:
            parent = parent_id(post)
            parent_author = next((p["author_id"] for p in conversation if p["id"] == parent), None)
            view = self.render.view(post, conversation)
            return {
                "uri": view["uri"],
                "cid": view["cid"],
                "author": view["author"],
                "reason": "reply" if parent_author == user_id else "mention",
                "record": view["record"],
                "isRead": False,
                "indexedAt": view["indexedAt"],
                "labels": [],
            }

        return notification

    def _listing(self, endpoint: str, select, item) -> Iterator[ResponsePage]:
        key = "notifications" if endpoint == "mentions" else "feed"
        watermark = self.request.since_ids.get(endpoint)
        low_ms = _epoch_ms(self.request.backfill_start)
        if watermark:
            # strictly after the newest post served before (times are whole seconds)
            seen_ms = int(datetime.fromisoformat(watermark).timestamp() * 1000)
            low_ms = max(low_ms, seen_ms + 1000)
            self.result.watermarks[endpoint] = watermark
        newest = _newest_first(self.world, select, low_ms, self.until_ms, 0)
        served = False
        for number, (posts, more) in enumerate(_chunks(newest, PAGE_SIZE)):
            if not served:
                self.result.watermarks[endpoint] = _stamp(_created_ms(int(posts[0]["id"])))
                served = True
            body: dict[str, Any] = {key: []}
            for post in posts:
                conversation = self._conversation(post)
                self.roots.setdefault(post["conversation_id"])
                body[key].append(item(post, conversation))
            if more:
                body["cursor"] = f"{endpoint}-{self.request.account}-{number + 1}"
            yield self._page(endpoint, body, posts=len(posts))
        if not served:
            yield self._page(endpoint, {key: []}, posts=0)

    def _conversation(self, post: Post) -> Conversation:
        return self.conversations.of(post["conversation_id"])

    def _threads(self) -> Iterator[ResponsePage]:
        self.result.endpoint("threads")
        for root_id in self.roots:
            conversation = self._conversation({"conversation_id": root_id})
            root = conversation[0]
            tree = self.render.thread(root, conversation, self.until_ms)
            served = sum(1 for p in conversation if _created_ms(int(p["id"])) < self.until_ms)
            yield self._page("threads", {"thread": tree}, posts=served)


def serve_bluesky_pages(
    world: SimulatedWorld, request: ExtractRequest, result: ExtractResult
) -> Iterator[ResponsePage]:
    """Validate `request` now, then stream its pages."""
    user_id = org_user_id(world, request, "bluesky")
    return SimulatedBlueskyApi(world, request, result).pages(user_id)


__all__ = ["ENDPOINTS", "serve_bluesky_pages"]
