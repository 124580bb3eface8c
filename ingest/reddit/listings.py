"""Reading Reddit's answers as received: Listings, comment trees and morechildren.

The source decides when to stop paging from the bytes it lands, not from praw's objects:
praw fetches a missing attribute lazily (an inbox item has no `link_id`, and asking for
it would cost a request per item), while the raw body holds exactly what was sent.

Shapes (Reddit's API, as praw 8 reads them):
    Listing        {"kind": "Listing", "data": {"after": ..., "children": [thing, ...]}}
    comment tree   [Listing(one t3), Listing(t1 ... with data.replies Listings, more)]
    morechildren   {"json": {"errors": [], "data": {"things": [thing, ...]}}}
    thing          {"kind": "t1" | "t3" | "more", "data": {...}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# An inbox item (a comment "message") has no link_id; its context path names the
# submission: /r/<subreddit>/comments/<submission id>/<slug>/<comment id>/?context=3
_CONTEXT_SUBMISSION = re.compile(r"/comments/([a-z0-9]+)/", re.IGNORECASE)


class NotTheExpectedShape(ValueError):
    pass


def parse_listing(body: bytes) -> dict[str, Any]:
    """The Listing in a body; NotTheExpectedShape (a ValueError) when it is not one."""
    document = _parse(body)
    if not (
        isinstance(document, dict)
        and document.get("kind") == "Listing"
        and isinstance(document.get("data"), dict)
        and isinstance(document["data"].get("children"), list)
    ):
        raise NotTheExpectedShape("not a Listing with data.children")
    return document


def parse_thread_page(body: bytes) -> Any:
    """A comment tree or a morechildren answer; NotTheExpectedShape otherwise."""
    document = _parse(body)
    if isinstance(document, list) and all(
        isinstance(item, dict) and item.get("kind") == "Listing" for item in document
    ):
        return document
    if isinstance(document, dict):
        answer = document.get("json")
        if isinstance(answer, dict) and isinstance((answer.get("data") or {}).get("things"), list):
            return document
    raise NotTheExpectedShape("not a comment tree or a morechildren answer")


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise NotTheExpectedShape(f"not valid JSON ({exc})") from None


def children(listing: dict[str, Any]) -> list[Any]:
    return listing["data"]["children"]


def after(listing: dict[str, Any]) -> str | None:
    """The cursor of the next page; null on the last page."""
    return listing["data"].get("after")


def created_utc(thing: Any) -> float | None:
    data = thing.get("data") if isinstance(thing, dict) else None
    value = data.get("created_utc") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def submission_id(thing: Any) -> str | None:
    """The id (no t3_ prefix) of the submission a t1 or t3 thing belongs to."""
    if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
        return None
    data = thing["data"]
    if thing.get("kind") == "t3":
        return data.get("id") or None
    if thing.get("kind") != "t1":
        return None
    link_id = data.get("link_id")
    if isinstance(link_id, str) and link_id.startswith("t3_"):
        return link_id[3:]
    match = _CONTEXT_SUBMISSION.search(data.get("context") or "")
    return match.group(1).lower() if match else None


def tree_things(document: Any) -> Iterator[dict[str, Any]]:
    """Every thing in a comment tree or morechildren answer, replies included."""
    if isinstance(document, list):
        stack = [thing for listing in document for thing in listing["data"]["children"]]
    else:
        stack = list(document["json"]["data"]["things"])
    while stack:
        thing = stack.pop()
        if not isinstance(thing, dict):
            continue
        yield thing
        replies = (thing.get("data") or {}).get("replies")
        if isinstance(replies, dict):
            stack.extend((replies.get("data") or {}).get("children") or [])
