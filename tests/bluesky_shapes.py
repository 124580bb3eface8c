"""Bluesky XRPC answers as the AppView sends them, built from small facts.

Shapes from the lexicons of bluesky-social/atproto (lexicons/app/bsky/feed/defs.json,
app/bsky/notification/listNotifications.json, app/bsky/richtext/facet.json): a postView
with its author (profileViewBasic), record (app.bsky.feed.post: text, createdAt, reply,
facets with byte offsets), counts and indexedAt; a notification; a feed item; a
threadViewPost with parent and replies. Used by the unit tests of the page format and by
the fake AppView in tests/integration/fake_bluesky_api.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def did_of(handle: str) -> str:
    """A stable did:plc for a handle (24 base32 characters, as real ones have)."""
    import hashlib

    digest = hashlib.sha256(handle.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    number = int.from_bytes(digest[:15], "big")
    return "did:plc:" + "".join(alphabet[(number >> (5 * i)) & 31] for i in range(24))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Post:
    """One post: its author, words, time, the post it answers and the handles it mentions."""

    rkey: str
    author: str  # handle
    text: str
    created_at: datetime
    parent: Post | None = None
    mentions: list[str] = field(default_factory=list)
    indexed_delay_seconds: int = 1

    @property
    def uri(self) -> str:
        return f"at://{did_of(self.author)}/app.bsky.feed.post/{self.rkey}"

    @property
    def cid(self) -> str:
        return "bafyrei" + did_of(self.uri)[8:]

    @property
    def root(self) -> Post:
        return self if self.parent is None else self.parent.root

    @property
    def indexed_at(self) -> datetime:
        from datetime import timedelta

        return self.created_at + timedelta(seconds=self.indexed_delay_seconds)

    def record(self) -> dict:
        record: dict = {
            "$type": "app.bsky.feed.post",
            "text": self.text,
            "createdAt": stamp(self.created_at),
            "langs": ["en"],
        }
        facets = self.facets()
        if facets:
            record["facets"] = facets
        if self.parent is not None:
            record["reply"] = {
                "root": {"uri": self.root.uri, "cid": self.root.cid},
                "parent": {"uri": self.parent.uri, "cid": self.parent.cid},
            }
        return record

    def facets(self) -> list[dict]:
        """A mention facet per `@handle` in the text, at its UTF-8 byte offsets."""
        facets = []
        encoded = self.text.encode()
        for handle in self.mentions:
            needle = f"@{handle}".encode()
            start = encoded.find(needle)
            if start < 0:
                continue
            facets.append(
                {
                    "index": {"byteStart": start, "byteEnd": start + len(needle)},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": did_of(handle)}
                    ],
                }
            )
        return facets

    def view(self, replies: int = 0) -> dict:
        """app.bsky.feed.defs#postView."""
        return {
            "uri": self.uri,
            "cid": self.cid,
            "author": author_view(self.author),
            "record": self.record(),
            "replyCount": replies,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": stamp(self.indexed_at),
            "labels": [],
        }

    def notification(self, reason: str) -> dict:
        """app.bsky.notification.listNotifications#notification for this post."""
        return {
            "uri": self.uri,
            "cid": self.cid,
            "author": author_view(self.author),
            "reason": reason,
            "record": self.record(),
            "isRead": False,
            "indexedAt": stamp(self.indexed_at),
            "labels": [],
        }

    def feed_item(self) -> dict:
        """app.bsky.feed.defs#feedViewPost."""
        item: dict = {"post": self.view()}
        if self.parent is not None:
            item["reply"] = {
                "root": {"$type": "app.bsky.feed.defs#postView", **self.root.view()},
                "parent": {"$type": "app.bsky.feed.defs#postView", **self.parent.view()},
            }
        return item


def author_view(handle: str) -> dict:
    """app.bsky.actor.defs#profileViewBasic."""
    return {
        "did": did_of(handle),
        "handle": handle,
        "displayName": handle.split(".")[0].title(),
        "labels": [],
        "createdAt": "2024-02-06T00:00:00.000Z",
    }


def thread_view(root: Post, posts: list[Post], depth: int = 1000, level: int = 0) -> dict:
    """app.bsky.feed.defs#threadViewPost of `root` with its replies among `posts`, cut at
    `depth` levels of replies as the AppView cuts them."""
    children = [p for p in posts if p.parent is root]
    node: dict = {
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": root.view(replies=len(children)),
    }
    if level < depth:
        node["replies"] = [thread_view(child, posts, depth, level + 1) for child in children]
    return node


NOT_FOUND_NODE = {
    "$type": "app.bsky.feed.defs#notFoundPost",
    "uri": "at://did:plc:gone/app.bsky.feed.post/3deleted",
    "notFound": True,
}
