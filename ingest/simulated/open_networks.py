"""What the Bluesky and Mastodon renderings of the simulated world share: reply links, and
finding a post's whole conversation again. (The org's handles on that platform stand where
the generator reads X's: the app gives them, `OrgConfig.for_simulation(platform)`.)"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from ingest.pages import ExtractRequest

from .generator import SimulatedWorld
from .posts import SEQUENCE_BITS, X_EPOCH_MS, Conversation, Post


def parent_id(post: Post) -> str | None:
    for reference in post.get("referenced_tweets") or ():
        if reference["type"] == "replied_to":
            return str(reference["id"])
    return None


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Conversations:
    """A post's conversation, generated again from the day its root was posted (cached)."""

    def __init__(self, world: SimulatedWorld):
        self.world = world
        self._days: dict[date, dict[str, Conversation]] = {}

    def of(self, root_id: str) -> Conversation:
        root_ms = (int(root_id) >> SEQUENCE_BITS) + X_EPOCH_MS
        day = datetime.fromtimestamp(root_ms / 1000, tz=UTC).date()
        if day not in self._days:
            self._days[day] = {c[0]["id"]: c for c in self.world.conversations(day)}
        return self._days[day][root_id]


def org_user_id(world: SimulatedWorld, request: ExtractRequest, platform: str) -> str:
    """The simulated user id of the org account `request` asks for; ValueError at once
    when the request is for another platform or an account the config does not list."""
    if request.platform != platform:
        raise ValueError(f"the simulated {platform} source cannot serve {request.platform!r}")
    account = world.population.account(request.account)
    if account is None:
        raise ValueError(
            f"{request.account!r} is not a configured {platform} account of "
            f"{world.organization.name}"
        )
    return account.user.id
