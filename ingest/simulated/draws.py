"""What a simulated day draws from its RNG: people, start times, delays, template fields.

Every draw goes through `random()` or `getrandbits()` of the day's one RNG, in the order
the conversations ask for them; see generator.py for why no other `Random` method is used.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import texts
from .population import OrgAccount, XUser

if TYPE_CHECKING:
    from .generator import SimulatedWorld

# Customers are drawn with index = pool * u ** CUSTOMER_SKEW: a few regulars, a long tail.
CUSTOMER_SKEW = 1.5

# Relative volume per UTC hour (busy in European and American daytime).
# fmt: off
_HOUR_WEIGHTS = (2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5.5, 6.5, 7, 7, 7, 7, 7, 7, 6.5, 6.5, 6, 5.5,
                 5, 4.5, 3.5, 2.5)
# fmt: on
_HOUR_CUMULATIVE = [sum(_HOUR_WEIGHTS[: i + 1]) for i in range(24)]
_CAMPAIGN_CODES = ("SAVE", "HELLO", "WELCOME", "PROMO", "GIFT")


def _plan_pair(bits: int) -> str:
    plans = texts.PLANS
    first = (bits >> 31 & 7) % len(plans)
    return plans[(first + 1 + (bits >> 34 & 7) % (len(plans) - 1)) % len(plans)]


# Template fields, each computed from its own bits of one 96-bit draw per conversation
# and only when a template uses it (most use one or two).
_CONTEXT_FIELDS: dict[str, Callable[[int], Any]] = {
    "order": lambda bits: f"#{1_000_000 + (bits & 0x7FFFFF)}",
    "days": lambda bits: 2 + (bits >> 23 & 0xF) % 13,
    "product": lambda bits: texts.PRODUCTS[(bits >> 27 & 0xF) % len(texts.PRODUCTS)],
    "plan": lambda bits: texts.PLANS[(bits >> 31 & 7) % len(texts.PLANS)],
    "plan2": _plan_pair,
    "qty": lambda bits: 5 + (bits >> 37 & 0xFF) % 196,
    "amount": lambda bits: f"${4 + (bits >> 45 & 0x3F) % 46}.99",
    "campaign": lambda bits: texts.CAMPAIGNS[(bits >> 51 & 7) % len(texts.CAMPAIGNS)],
    "code": lambda bits: f"{_CAMPAIGN_CODES[(bits >> 54 & 7) % 5]}{5 * (2 + (bits >> 57 & 7))}",
    "job": lambda bits: texts.JOB_TITLES[(bits >> 60 & 7) % len(texts.JOB_TITLES)],
    "city": lambda bits: texts.CITIES[(bits >> 63 & 0xF) % len(texts.CITIES)],
    "feature": lambda bits: texts.FEATURES[(bits >> 67 & 7) % len(texts.FEATURES)],
    "minutes": lambda bits: 20 + (bits >> 70 & 0x7F) % 76,
    "hours": lambda bits: 2 + (bits >> 77 & 0x1F) % 29,
    "pct": lambda bits: (10, 15, 20, 25, 30, 40)[(bits >> 82 & 7) % 6],
}


class TemplateContext(dict[str, Any]):
    """The template fields of one conversation (same order, product, city ... throughout)."""

    __slots__ = ("bits",)
    bits: int

    def __missing__(self, key: str) -> Any:
        value = _CONTEXT_FIELDS[key](self.bits)
        self[key] = value
        return value


class DayDraws:
    """The draws of one day, all from its one RNG."""

    def __init__(self, world: SimulatedWorld, rng: random.Random) -> None:
        self.world = world
        self.population = world.population
        self.rng = rng
        self.random = rng.random

    def pick(self, options: tuple[Any, ...] | list[Any]) -> Any:
        return options[int(self.random() * len(options))]

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low))

    def account(self, department: str) -> OrgAccount:
        accounts = self.population.accounts[department]
        if len(accounts) == 1 or self.random() < 0.7:
            return accounts[0]
        return self.pick(accounts)

    def solo_department(self) -> str:
        cumulative = self.world.solo_cumulative
        return self.population.departments[
            bisect.bisect_right(cumulative, self.random() * cumulative[-1])
        ]

    def customer(self) -> XUser:
        pool = self.population.pool_size
        return self.population.customer(min(pool - 1, int(pool * self.random() ** CUSTOMER_SKEW)))

    def start_ms(self) -> int:
        """When a conversation starts: ms after midnight, busier in the daytime.

        Nothing starts in the day's last minute, which leaves a co-handled conversation
        room for its handoff before midnight.
        """
        hour = min(23, bisect.bisect_right(_HOUR_CUMULATIVE, self.random() * _HOUR_CUMULATIVE[-1]))
        span = 3_540_000 if hour == 23 else 3_600_000
        return hour * 3_600_000 + int(self.random() * span)

    def first_response_delay(self) -> int:
        u = self.random()
        if u < 0.45:
            return self.between(120, 1800)
        if u < 0.80:
            return self.between(1800, 3 * 3600)
        if u < 0.95:
            return self.between(3 * 3600, 10 * 3600)
        return self.between(10 * 3600, 20 * 3600)

    def customer_delay(self) -> int:
        u = self.random()
        if u < 0.7:
            return self.between(60, 1800)
        if u < 0.92:
            return self.between(1800, 4 * 3600)
        return self.between(4 * 3600, 12 * 3600)

    def followup_delay(self) -> int:
        if self.random() < 0.9:
            return self.between(300, 2 * 3600)
        return self.between(2 * 3600, 8 * 3600)

    def handoff_delay(self) -> int:
        return self.between(1200, 6 * 3600)

    def context(self, customer: XUser) -> TemplateContext:
        context = TemplateContext(first=customer.name.split()[0].capitalize(), sign="")
        context.bits = self.rng.getrandbits(96)
        return context
