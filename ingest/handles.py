"""What each platform allows in an account handle, checked when a config is read.

A lower-layer table (no siloscope imports) so that every layer reads the same rules; a new
platform adds its rule here. Handles are checked without their usual prefix (`@`, `u/`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class HandleRule:
    pattern: re.Pattern[str]
    description: str  # the rule in words, for the error message
    max_length: int | None = None  # when the pattern cannot say it
    reserved_suffixes: tuple[str, ...] = ()  # endings that can never be a handle, and why

    def problem(self, handle: str) -> str | None:
        """Why `handle` is not a handle on this platform, or None when it is one."""
        too_long = self.max_length is not None and len(handle) > self.max_length
        if too_long or not self.pattern.fullmatch(handle):
            return f"{handle!r} is not {self.description}"
        for suffix in self.reserved_suffixes:
            if handle.lower().endswith(suffix):
                return f"{handle!r}: the top-level domain {suffix} is reserved and never resolves"
        return None


HANDLE_RULES: dict[str, HandleRule] = {
    # https://help.x.com/en/managing-your-account/x-username-rules
    "x": HandleRule(
        re.compile(r"[A-Za-z0-9_]{1,15}"), "an X handle: 1 to 15 letters, digits or underscores"
    ),
    # Reddit's sign-up form: 3 to 20 characters, letters, digits, '-' and '_'
    "reddit": HandleRule(
        re.compile(r"[A-Za-z0-9_-]{3,20}"),
        "a Reddit username: 3 to 20 letters, digits, underscores or hyphens",
    ),
    # AT Protocol handles are domain names (atproto.com/specs/handle): two or more labels of
    # letters, digits and hyphens (not at either end), 63 at most each, 253 in all, and a
    # last label that starts with a letter; the spec reserves some top-level domains.
    "bluesky": HandleRule(
        re.compile(
            r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
        ),
        "an AT Protocol handle: a domain name such as acme.bsky.social (labels of "
        "letters, digits and inner hyphens, joined by dots)",
        max_length=253,
        reserved_suffixes=tuple(
            f".{tld}"
            for tld in (
                "alt",
                "arpa",
                "example",
                "internal",
                "invalid",
                "local",
                "localhost",
                "onion",
            )
        ),
    ),
}


# How configs and people write an account: `@acme`, `u/acme`, `/u/acme`; a subreddit `r/acme`.
HANDLE_PREFIX = re.compile(r"^(?:@|/?u/)", re.IGNORECASE)
SUBREDDIT_PREFIX = re.compile(r"^/?r/", re.IGNORECASE)
# Reddit's rule for community names
SUBREDDIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
SUBREDDIT_RULE = "letters, digits, underscore; 2 to 21"


def bare_handle(handle: str) -> str:
    """The handle as written, without a leading `@`, `u/` or `/u/` (case kept)."""
    return HANDLE_PREFIX.sub("", handle.strip())


def subreddit_problem(name: str) -> str | None:
    """Why `name` (without `r/`) cannot be a subreddit, or None when it can."""
    if SUBREDDIT_NAME.match(name):
        return None
    return f"{name!r} is not a subreddit name ({SUBREDDIT_RULE})"


def handle_problem(platform: str, handle: str) -> str | None:
    """Why `handle` (without its prefix) cannot be an account on `platform`, or None."""
    rule = HANDLE_RULES.get(platform)
    if rule is None:
        return f"no handle rule for platform {platform!r} (add one to ingest/handles.py)"
    return rule.problem(handle)
