"""Mastodon API answers as an instance sends them, built from small facts.

Shapes from the entity docs (docs.joinmastodon.org/entities/Status, Account,
Notification, Context): a Status with its account, HTML content, in_reply_to_id (a number
of the serving instance), mentions (acct relative to the serving instance), a
Notification of type mention holding its status, a Context of ancestors and descendants.
Used by the unit tests of the page format and by tests/integration/fake_mastodon_api.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape


def number(*parts: object) -> str:
    """A stable snowflake-sized id (accounts: not ordered by anything)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return str(100_000_000_000_000_000 + int.from_bytes(digest[:7], "big"))


def snowflake(moment: datetime, *parts: object) -> str:
    """A Mastodon id: milliseconds since the epoch, shifted 16 bits, plus 16 stable bits,
    so ids sort by time as since_id and max_id need."""
    low = int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:2], "big")
    return str((int(moment.timestamp() * 1000) << 16) + low)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def relative(address: str, instance: str) -> str:
    """An acct as `instance` shows it: bare when local, user@domain when remote."""
    user, domain = address.split("@")
    return user if domain == instance else address


def account(address: str, instance: str) -> dict:
    user, domain = address.split("@")
    return {
        "id": number("account", instance, address),
        "username": user,
        "acct": relative(address, instance),
        "display_name": user.title(),
        "url": f"https://{domain}/@{user}",
        "uri": f"https://{domain}/users/{user}",
        "created_at": "2024-02-06T00:00:00.000Z",
        "locked": False,
        "bot": False,
        "note": "",
        "avatar": f"https://{domain}/avatars/{user}.png",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "fields": [],
        "emojis": [],
    }


@dataclass
class Toot:
    """One status: its author's address (user@home), words, time, parent and mentions."""

    key: str
    author: str
    text: str
    created_at: datetime
    parent: Toot | None = None
    mentions: list[str] = field(default_factory=list)

    @property
    def home(self) -> str:
        return self.author.split("@")[1]

    @property
    def uri(self) -> str:
        user = self.author.split("@")[0]
        return f"https://{self.home}/users/{user}/statuses/{self.id_on(self.home)}"

    def id_on(self, instance: str) -> str:
        """Each instance numbers the status itself (a remote copy gets its own id)."""
        return snowflake(self.created_at, instance, self.key)

    @property
    def root(self) -> Toot:
        return self if self.parent is None else self.parent.root

    def html(self) -> str:
        words = escape(self.text, quote=False)
        for address in self.mentions:
            user, domain = address.split("@")
            link = (
                f'<span class="h-card"><a href="https://{domain}/@{user}" class="u-url mention">'
                f"@<span>{user}</span></a></span>"
            )
            words = words.replace(f"@{address}", link)
        return f"<p>{words}</p>"

    def status(self, instance: str) -> dict:
        """The Status entity as `instance` serves it."""
        return {
            "id": self.id_on(instance),
            "uri": self.uri,
            "url": self.uri.replace("/users/", "/@").replace("/statuses/", "/"),
            "created_at": stamp(self.created_at),
            "account": account(self.author, instance),
            "content": self.html(),
            "visibility": "public",
            "sensitive": False,
            "spoiler_text": "",
            "media_attachments": [],
            "application": None,
            "mentions": [
                {
                    "id": number("account", instance, address),
                    "username": address.split("@")[0],
                    "url": f"https://{address.split('@')[1]}/@{address.split('@')[0]}",
                    "acct": relative(address, instance),
                }
                for address in self.mentions
            ],
            "tags": [],
            "emojis": [],
            "reblogs_count": 0,
            "favourites_count": 0,
            "replies_count": 0,
            "in_reply_to_id": self.parent.id_on(instance) if self.parent else None,
            "in_reply_to_account_id": (
                number("account", instance, self.parent.author) if self.parent else None
            ),
            "reblog": None,
            "poll": None,
            "card": None,
            "language": "en",
            "edited_at": None,
        }

    def notification(self, instance: str) -> dict:
        return {
            "id": snowflake(self.created_at, "notification", instance, self.key),
            "type": "mention",
            "created_at": stamp(self.created_at),
            "account": account(self.author, instance),
            "status": self.status(instance),
        }


def context(toot: Toot, toots: list[Toot], instance: str) -> dict:
    """The Context of `toot` among `toots`: its ancestors, root first, and descendants."""
    ancestors = []
    parent = toot.parent
    while parent is not None:
        ancestors.insert(0, parent.status(instance))
        parent = parent.parent
    below, frontier = [], [toot]
    while frontier:
        children = [t for t in toots if t.parent in frontier]
        below.extend(children)
        frontier = children
    below.sort(key=lambda t: t.created_at)
    return {"ancestors": ancestors, "descendants": [t.status(instance) for t in below]}
