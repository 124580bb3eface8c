"""The conversations of simulated UTC days, as X API v2 post objects.

Each day is generated alone, from its own RNG seeded by (seed, organisation, structure,
date), so a day is the same whatever range it is generated in. The structure (who handles
what) comes from `structure.StructurePlan`, a closed-form function of the global
conversation number; this module schedules a day's conversations and gives each its
kind (conversations.py), which adds people and timing (draws.py) and posts (posts.py).

Only `random.Random.random()` and `getrandbits()` are used (never `choice`, `randrange`,
`shuffle`, whose algorithms have changed between Python versions), so the output depends
on the Mersenne Twister stream alone, which Python keeps stable.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from operator import itemgetter

from . import texts
from .conversations import lone_broadcast, mention_conversation, org_started_conversation
from .draws import DayDraws
from .organization import SimulatedOrganization
from .population import Population, stable_key
from .posts import DAY_SECONDS, MAX_THREAD_SECONDS, Conversation, Post, PostWriter
from .structure import StructurePlan

# Share of answered conversations an org post starts, and of departments that post once a
# day with nobody answering.
ORG_STARTED_SHARE = 0.15
LONE_BROADCAST_SHARE = 0.2


class SimulatedWorld:
    """Everything about one configured organisation that does not change from day to day."""

    def __init__(self, organization: SimulatedOrganization) -> None:
        self.organization = organization
        self.population = Population(organization)
        departments = self.population.departments
        self.plan = StructurePlan(
            organization.structure,
            departments,
            organization.glue_department,
            organization.seed,
            organization.name,
        )
        self.per_day = organization.conversations_per_day
        self._seed_parts = (organization.seed, organization.name, organization.structure)
        self.profiles = {
            name: texts.department_profile(
                name, [a.user.username for a in self.population.accounts[name]]
            )
            for name in departments
        }
        # Solo conversations go to a department with odds by its kind (support is busiest).
        self.solo_cumulative: list[float] = []
        total = 0.0
        for name in departments:
            total += texts.PROFILE_WEIGHTS[self.profiles[name]]
            self.solo_cumulative.append(total)
        self.signing = {
            name for name in departments if self.profiles[name] in (texts.SUPPORT, texts.SALES)
        }
        self._org_ids = {
            account.user.id: name
            for name, accounts in self.population.accounts.items()
            for account in accounts
        }

    def department_of(self, user_id: str) -> str | None:
        """The department of an org account's user id; None for customers and bots."""
        return self._org_ids.get(user_id)

    def day_rng(self, day: date) -> random.Random:
        digest_seed = stable_key("day", *self._seed_parts, day.isoformat())
        return random.Random(digest_seed)

    def conversations(self, day: date) -> list[Conversation]:
        """All conversations that start on `day` (UTC), each a list of posts in time order."""
        return build_day(self, day)

    def days(self, start_day: date, end_day: date) -> Iterator[tuple[date, list[Conversation]]]:
        """(day, conversations) for every day from start_day to end_day, both included."""
        day = start_day
        while day <= end_day:
            yield day, self.conversations(day)
            day += timedelta(days=1)


def build_day(world: SimulatedWorld, day: date) -> list[Conversation]:
    """The conversations that start on `day`, in the order of their start times."""
    draws = DayDraws(world, world.day_rng(day))
    writer = PostWriter(world, day, draws)
    r = draws.random
    per_day = world.per_day
    first_slot = day.toordinal() * per_day
    starts = sorted(draws.start_ms() for _ in range(per_day))
    conversations: list[Conversation] = []
    for index, start_ms in enumerate(starts):
        plan = world.plan.slot(first_slot + index)
        start = start_ms // 1000
        thread_limit = start + MAX_THREAD_SECONDS
        # A co-handled conversation is handed off on its start day (see `handoff`).
        limit = DAY_SECONDS - 1 if plan.pair else thread_limit
        conversation = writer.begin(start_ms, limit, thread_limit)
        customer = draws.customer()
        if plan.pair is None:
            primary, referred = draws.solo_department(), None
        elif r() < 0.5:
            primary, referred = plan.pair
        else:
            referred, primary = plan.pair
        if plan.answered and r() < ORG_STARTED_SHARE:
            org_started_conversation(writer, start, customer, primary, referred)
        else:
            mention_conversation(writer, start, customer, primary, referred, plan.answered)
        conversations.append(conversation)
    for department in world.population.departments:
        if r() < LONE_BROADCAST_SHARE:
            lone_broadcast(writer, department)
            conversations.append(writer.conversation)
    return conversations


def generate_world_posts(world: SimulatedWorld, start_day: date, end_day: date) -> list[Post]:
    """Every post of the conversations that start from start_day to end_day, oldest first."""
    posts: list[Post] = []
    with bulk_allocation():
        for _, conversations in world.days(start_day, end_day):
            for conversation in conversations:
                posts.extend(conversation)
        lengths = {len(post["id"]) for post in (posts[0], posts[-1])} if posts else set()
        if len(lengths) == 1 and all(len(post["id"]) in lengths for post in posts):
            # Ids of equal length sort as strings exactly as they do as numbers (faster).
            posts.sort(key=itemgetter("id"))
        else:
            posts.sort(key=lambda post: int(post["id"]))
    return posts


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small dicts are made.

    Posts hold no reference cycles; without this, collections triggered by the sheer
    number of new containers take more time than generating them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
