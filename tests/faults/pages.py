"""Hand-written X API v2 pages and a page source that serves them, for the fault tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ingest.pages import ExtractRequest, ResponsePage

NIGHT = datetime(2026, 11, 2, tzinfo=UTC)
BACKFILL_START = datetime(2026, 10, 1, tzinfo=UTC)


def request(account: str = "AcmeHelp", until: datetime = NIGHT, since_ids=None) -> ExtractRequest:
    return ExtractRequest("x", account, until, BACKFILL_START, since_ids=dict(since_ids or {}))


def post(post_id: str, author: str = "1", **fields) -> dict:
    return {
        "id": post_id,
        "text": f"post {post_id}",
        "author_id": author,
        "created_at": "2026-11-01T10:00:00.000Z",
        "conversation_id": post_id,
        **fields,
    }


def page(*posts: dict) -> bytes:
    users = [{"id": "1", "username": "Customer", "name": "C"}]
    return json.dumps(
        {"data": list(posts), "includes": {"users": users}, "meta": {"result_count": len(posts)}}
    ).encode()


class Pages:
    """A PageSource serving fixed bodies; its watermark is the newest post id it served."""

    platform = "x"

    def __init__(self, *bodies: bytes, newest: str = "0"):
        self.bodies, self.newest = bodies, newest
        self.requests: list[ExtractRequest] = []

    def pages(self, request, result):
        self.requests.append(request)
        for body in self.bodies:
            result.requests += 1
            yield ResponsePage("mentions", body)
        result.watermarks["mentions"] = self.newest


def count(con, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]
