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

    def problem(self, handle: str) -> str | None:
        """Why `handle` is not a handle on this platform, or None when it is one."""
        if self.pattern.fullmatch(handle):
            return None
        return f"{handle!r} is not a handle: {self.description}"


HANDLE_RULES: dict[str, HandleRule] = {
    # https://help.x.com/en/managing-your-account/x-username-rules
    "x": HandleRule(re.compile(r"[A-Za-z0-9_]{1,15}"), "1 to 15 letters, digits or underscores"),
    # Reddit's sign-up form: 3 to 20 characters, letters, digits, '-' and '_'
    "reddit": HandleRule(
        re.compile(r"[A-Za-z0-9_-]{3,20}"),
        "3 to 20 letters, digits, underscores or hyphens",
    ),
}


def handle_problem(platform: str, handle: str) -> str | None:
    """Why `handle` (without its prefix) cannot be an account on `platform`, or None."""
    rule = HANDLE_RULES.get(platform)
    if rule is None:
        return f"no handle rule for platform {platform!r} (add one to ingest/handles.py)"
    return rule.problem(handle)
