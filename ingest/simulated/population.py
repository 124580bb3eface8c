"""Who posts in the simulation: the org's accounts, an ignored bot, and a customer pool.

Every user id is a pure function of the config and the seed, so the same person has the
same id, username and display name in every run and on every page. Customer attributes
come from integer mixing of (seed, index), never from a shared RNG, so a customer is the
same whichever days are generated and in whatever order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ingest.handles import bare_handle

from .organization import SimulatedOrganization

_MASK64 = (1 << 64) - 1
_CAMEL_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Org and bot accounts get 7-8 digit ids (old, verified accounts); customers get either
# 9-10 digit ids (accounts from before 2013) or 19 digit snowflake ids (newer accounts).
# The three ranges are disjoint, and each customer range is an invertible map of the
# customer index, so ids never collide and any id can be looked up again.
_ORG_ID_BASE, _ORG_ID_SPAN = 10_000_000, 90_000_000
_OLD_ID_BASE, _OLD_ID_BITS = 100_000_000, 32
_NEW_ID_BASE, _NEW_ID_BITS = 1_100_000_000_000_000_000, 58
_OLD_MULTIPLIER = 0x9E3779B1
_NEW_MULTIPLIER = 0x2545F4914F6CDD1D & ((1 << _NEW_ID_BITS) - 1) | 1
_OLD_INVERSE = pow(_OLD_MULTIPLIER, -1, 1 << _OLD_ID_BITS)
_NEW_INVERSE = pow(_NEW_MULTIPLIER, -1, 1 << _NEW_ID_BITS)
# A prime above the largest pool (8 x 100,000), so i -> (i * P + offset) % pool is a bijection.
_USERNAME_MULTIPLIER = 1_000_003


def stable_key(*parts: object) -> int:
    """A 64-bit integer that depends only on `parts` (not on PYTHONHASHSEED)."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def mix64(value: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread bijection on 64-bit integers."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def display_handle(handle: str) -> str:
    """The handle as configured, without a leading `@`, `u/` or `/u/` (case kept)."""
    return bare_handle(handle)


def normalize_handle(handle: str) -> str:
    """Handles compare case-insensitively, without a leading `@`, `u/` or `/u/`."""
    return display_handle(handle).lower()


def user_id_for_handle(handle: str) -> str:
    """The simulated numeric user id of an org or ignored account: derived from the handle."""
    key = stable_key("siloscope-simulated-x-user", normalize_handle(handle))
    return str(_ORG_ID_BASE + key % _ORG_ID_SPAN)


class XUser(NamedTuple):
    """An X user as the API's `includes.users` shows it (a tuple: cheap to make by the million)."""

    id: str
    name: str
    username: str

    def as_api(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "username": self.username}


@dataclass(frozen=True, slots=True)
class OrgAccount:
    """One configured X handle of a department."""

    user: XUser
    department: str


def _account_display_name(organization: str, handle: str, department: str) -> str:
    if normalize_handle(handle) == normalize_handle(organization):
        return organization
    words = _CAMEL_WORD.findall(display_handle(handle))
    if len(words) >= 2:
        return " ".join(words)
    return f"{organization} {department}"


# fmt: off
_FIRST_NAMES = (
    "Jenny", "Tom", "Priya", "Marcus", "Aisha", "Lukas", "Sofia", "Kenji", "Olivia", "Mateo",
    "Fatima", "Daniel", "Chloe", "Rahul", "Emma", "Tunde", "Hannah", "Diego", "Mei", "Jamal",
    "Laura", "Oscar", "Nadia", "Ben", "Yuki", "Carlos", "Grace", "Omar", "Isabel", "Ethan",
    "Zara", "Noah", "Amara", "Felix", "Leila", "Sam", "Ingrid", "Kwame", "Rosa", "Arjun", "Mia",
    "Tariq", "Elena", "Jack", "Anika", "Luca", "Chioma", "Ryan", "Sana", "Pedro", "Maya",
    "Viktor", "Nina", "Hugo", "Aaliyah", "Finn", "Ines", "Kofi", "Lily", "Andre", "Hana", "Max",
    "Beatriz", "Ravi", "Clara", "Jonas", "Amina", "Leo", "Tessa", "Malik",
)
_LAST_NAMES = (
    "Morales", "Becker", "Sharma", "Okafor", "Nguyen", "Kowalski", "Rossi", "Tanaka", "Johnson",
    "Garcia", "Haddad", "Schmidt", "Dubois", "Patel", "Andersson", "Adeyemi", "Silva", "Kim",
    "Murphy", "Novak", "Costa", "Fischer", "Ibrahim", "Lopez", "Walsh", "Yamamoto", "Mensah",
    "Larsen", "Rahman", "Bianchi", "Brown", "Chen", "Ortiz", "Meyer", "Osei", "Kaur", "Santos",
    "Wright", "Petrov", "Ali", "Moreau", "Lindqvist", "Reyes", "Cohen", "Baker", "Suzuki",
    "Evans", "Hoffmann", "Mendes", "Singh", "Clarke", "Popescu", "Jensen", "Farouk", "Hughes",
    "Romero", "Sato", "Fernandes", "Owusu", "Young",
)
_HOBBIES = (
    "bakes", "runs", "codes", "reads", "travels", "games", "draws", "cooks", "lifts", "sings",
    "hikes", "knits", "films", "rides", "paints", "surfs",
)
# fmt: on
_NAME_FLOURISHES = (
    " \u2728",
    " \U0001f33b",
    " \U0001f3b8",
    " \u26bd",
    " \U0001f4da",
    " \U0001f331",
)
_USERNAME_MAX = 15


# Username prefixes have letters and underscores only, and the digits after them identify
# the customer, so usernames are unique by construction (also after truncation to 15).
_USERNAME_PATTERNS: tuple[Callable[[str, str, str], str], ...] = (
    lambda first, last, hobby: first + last,
    lambda first, last, hobby: f"{first.lower()}_{last.lower()}",
    lambda first, last, hobby: (first + last[0]).lower(),
    lambda first, last, hobby: (first[0] + last).lower(),
    lambda first, last, hobby: f"{first.lower()}_{hobby}",
    lambda first, last, hobby: "its" + first.lower(),
    lambda first, last, hobby: f"{last.lower()}_{first[0].lower()}",
    lambda first, last, hobby: "the" + first + last[0],
)
_NAME_PATTERNS: tuple[Callable[[str, str, str], str], ...] = (
    lambda first, last, flourish: f"{first} {last}",
    lambda first, last, flourish: f"{first} {last}",
    lambda first, last, flourish: first,
    lambda first, last, flourish: f"{first} {last[0]}.",
    lambda first, last, flourish: f"{first} {last}".lower(),
    lambda first, last, flourish: f"{first} {last}{flourish}",
    lambda first, last, flourish: first + flourish,
)


class Population:
    """The accounts of one simulated organisation: org handles, bot, customer pool."""

    def __init__(self, organization: SimulatedOrganization) -> None:
        self.organization = organization.name
        self.seed = organization.seed
        self.departments: list[str] = []
        self.accounts: dict[str, list[OrgAccount]] = {}
        self._by_id: dict[str, XUser] = {}
        self._by_handle: dict[str, OrgAccount] = {}
        reserved: set[str] = set()
        for department, handles in organization.departments:
            if not handles:
                continue
            self.departments.append(department)
            accounts = []
            for handle in handles:
                user = XUser(
                    id=user_id_for_handle(handle),
                    name=_account_display_name(organization.name, handle, department),
                    username=display_handle(handle),
                )
                account = OrgAccount(user=user, department=department)
                self._register(user)
                self._by_handle[normalize_handle(handle)] = account
                accounts.append(account)
                reserved.add(normalize_handle(handle))
            self.accounts[department] = accounts
        self.bot: XUser | None = None
        if organization.ignored_accounts:
            handle = organization.ignored_accounts[0]
            self.bot = XUser(
                id=user_id_for_handle(handle),
                name=_account_display_name(organization.name, handle, "Status"),
                username=display_handle(handle),
            )
            self._register(self.bot)
            reserved.add(normalize_handle(handle))
        self._reserved_usernames = frozenset(reserved)
        self.pool_size = max(50, 8 * organization.conversations_per_day)
        pool_key = stable_key("customers", self.seed, self.organization)
        self._customer_key = pool_key
        self._old_xor = mix64(pool_key ^ 1) & ((1 << _OLD_ID_BITS) - 1)
        self._new_xor = mix64(pool_key ^ 2) & ((1 << _NEW_ID_BITS) - 1)
        self._username_offset = mix64(pool_key ^ 3) % self.pool_size
        self._customers: dict[int, XUser] = {}

    def _register(self, user: XUser) -> None:
        if user.id in self._by_id and self._by_id[user.id] != user:
            raise ValueError(
                f"simulated user ids of {self._by_id[user.id].username!r} and "
                f"{user.username!r} collide; rename one of the handles"
            )
        self._by_id[user.id] = user

    def account(self, handle: str) -> OrgAccount | None:
        """The org account of a configured handle (any case, with or without `@`)."""
        return self._by_handle.get(normalize_handle(handle))

    def customer(self, index: int) -> XUser:
        """Customer number `index` of the pool (0 <= index < pool_size)."""
        user = self._customers.get(index)
        if user is not None:
            return user
        bits = mix64((self._customer_key + index * 0xD1B54A32D192ED03) & _MASK64)
        first = _FIRST_NAMES[bits % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(bits >> 8) % len(_LAST_NAMES)]
        hobby = _HOBBIES[(bits >> 24) % len(_HOBBIES)]
        digits = str((index * _USERNAME_MULTIPLIER + self._username_offset) % self.pool_size)
        prefix = _USERNAME_PATTERNS[(bits >> 16) % len(_USERNAME_PATTERNS)](first, last, hobby)
        username = prefix[: max(1, _USERNAME_MAX - len(digits))] + digits
        if username.lower() in self._reserved_usernames:
            username = prefix[: max(1, _USERNAME_MAX - 1 - len(digits))] + "_" + digits
        flourish = _NAME_FLOURISHES[(bits >> 32) % len(_NAME_FLOURISHES)]
        name = _NAME_PATTERNS[(bits >> 48) % len(_NAME_PATTERNS)](first, last, flourish)
        user = XUser(self._customer_id(index, bits), name, username)
        self._customers[index] = user
        return user

    def _customer_id(self, index: int, bits: int) -> str:
        if (bits >> 40) % 4 == 0:
            mask = (1 << _OLD_ID_BITS) - 1
            return str(_OLD_ID_BASE + (((index * _OLD_MULTIPLIER) & mask) ^ self._old_xor))
        mask = (1 << _NEW_ID_BITS) - 1
        return str(_NEW_ID_BASE + (((index * _NEW_MULTIPLIER) & mask) ^ self._new_xor))

    def user(self, user_id: str) -> XUser | None:
        """Any simulated user (org account, bot or customer) by id; None if unknown."""
        known = self._by_id.get(user_id)
        if known is not None:
            return known
        try:
            number = int(user_id)
        except ValueError:
            return None
        if number >= _NEW_ID_BASE:
            mask = (1 << _NEW_ID_BITS) - 1
            index = (((number - _NEW_ID_BASE) ^ self._new_xor) * _NEW_INVERSE) & mask
        elif number >= _OLD_ID_BASE:
            mask = (1 << _OLD_ID_BITS) - 1
            index = (((number - _OLD_ID_BASE) ^ self._old_xor) * _OLD_INVERSE) & mask
        else:
            return None
        if index >= self.pool_size:
            return None
        candidate = self.customer(index)
        return candidate if candidate.id == user_id else None
