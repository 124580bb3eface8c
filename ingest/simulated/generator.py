"""The conversations of one simulated UTC day, as X API v2 post objects.

Each day is generated alone, from its own RNG seeded by (seed, organisation, structure,
date), so a day is the same whatever range it is generated in. The structure (who handles
what) comes from `structure.StructurePlan`, a closed-form function of the global
conversation number; this module adds people, timing and words around it.

Only `random.Random.random()` and `getrandbits()` are used (never `choice`, `randrange`,
`shuffle`, whose algorithms have changed between Python versions), so the output depends
on the Mersenne Twister stream alone, which Python keeps stable.
"""

from __future__ import annotations

import bisect
import gc
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

from siloscope.config import OrgConfig

from . import texts
from .population import OrgAccount, Population, XUser, stable_key
from .structure import StructurePlan

Post = dict[str, Any]
Conversation = list[Post]
# A post as the generator threads it through a conversation: the post, its author, the
# users it mentions (for X's reply prefix) and its id's millisecond part.
Message = tuple[Post, XUser, list[XUser], int]

X_EPOCH_MS = 1288834974657
SEQUENCE_BITS = 22
DAY_TAG_BITS = 2
COUNTER_BITS = SEQUENCE_BITS - DAY_TAG_BITS
MAX_POSTS_PER_DAY = 1 << COUNTER_BITS
# Every post of a day's conversations is created before the start of that day + SPILL_DAYS:
# a conversation starts within its day and lasts at most MAX_THREAD_SECONDS. The 2-bit day
# tag in the id sequence (day ordinal mod 4) keeps apart the ids of days whose posts can
# share a millisecond.
SPILL_DAYS = 3
MAX_THREAD_SECONDS = 44 * 3600
DAY_SECONDS = 86_400

# Share of conversations of each kind (the structure fixes answered / co-handled).
ORG_STARTED_SHARE = 0.15
CC_SHARE = 0.06
BOT_SHARE = 0.05
BUMP_SHARE = 0.35
LONE_BROADCAST_SHARE = 0.2
SIGNATURE_SHARE = 0.4
# Customers are drawn with index = pool * u ** CUSTOMER_SKEW: a few regulars, a long tail.
CUSTOMER_SKEW = 1.5

# Relative volume per UTC hour (busy in European and American daytime).
# fmt: off
_HOUR_WEIGHTS = (2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5.5, 6.5, 7, 7, 7, 7, 7, 7, 6.5, 6.5, 6, 5.5,
                 5, 4.5, 3.5, 2.5)
# fmt: on
_HOUR_CUMULATIVE = [sum(_HOUR_WEIGHTS[: i + 1]) for i in range(24)]
_SIGNATURE_LETTERS = "ABCDEFGHJKLMNPRSTW"
_CAMPAIGN_CODES = ("SAVE", "HELLO", "WELCOME", "PROMO", "GIFT")
_MINUTES = [f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(24 * 60)]
_SECONDS = [f"{second:02d}.000Z" for second in range(60)]


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


class _Context(dict[str, Any]):
    """The template fields of one conversation (same order, product, city ... throughout)."""

    __slots__ = ("bits",)
    bits: int

    def __missing__(self, key: str) -> Any:
        value = _CONTEXT_FIELDS[key](self.bits)
        self[key] = value
        return value


def _iso_day_prefixes(day: date) -> list[str]:
    return [(day + timedelta(days=offset)).isoformat() + "T" for offset in range(SPILL_DAYS)]


def day_start_ms(day: date) -> int:
    """Midnight UTC of `day`, in ms since the Unix epoch."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


class SimulatedWorld:
    """Everything about one configured organisation that does not change from day to day."""

    def __init__(self, config: OrgConfig) -> None:
        simulation = config.simulation
        self.config = config
        self.population = Population(config)
        departments = self.population.departments
        self.plan = StructurePlan(
            simulation.structure,
            departments,
            simulation.glue_department,
            simulation.seed,
            config.organization,
        )
        self.per_day = simulation.conversations_per_day
        self._seed_parts = (simulation.seed, config.organization, simulation.structure)
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
        return _DayBuilder(self, day).build()

    def days(self, start_day: date, end_day: date) -> Iterator[tuple[date, list[Conversation]]]:
        """(day, conversations) for every day from start_day to end_day, both included."""
        day = start_day
        while day <= end_day:
            yield day, self.conversations(day)
            day += timedelta(days=1)


class _DayBuilder:
    """Builds one day; holds the day's RNG, id counter and timestamp helpers."""

    def __init__(self, world: SimulatedWorld, day: date) -> None:
        day_ms = day_start_ms(day)
        if day_ms <= X_EPOCH_MS:
            raise ValueError(f"cannot simulate {day}: X snowflake ids start on 2010-11-04")
        self.world = world
        self.population = world.population
        self.day = day
        self.rng = world.day_rng(day)
        self.random = self.rng.random
        self.id_base = day_ms - X_EPOCH_MS
        self.day_tag = (day.toordinal() % (1 << DAY_TAG_BITS)) << COUNTER_BITS
        self.counter = 0
        self.prefixes = _iso_day_prefixes(day)
        self.conversation: Conversation = []
        self.root_ms = 0
        self.limit = 0
        self.thread_limit = 0

    # --- small draws
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
        return self.world.population.departments[
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

    def after(self, previous: int, delay: int) -> int:
        """The second `delay` after `previous`, squeezed to stay at or before `self.limit`.

        Near the limit each step takes half the room left; at the limit posts share a
        second (their ids still increase, see `post`). So a day never spills further than
        SPILL_DAYS, and a co-handled conversation's handoff stays on its start day.
        """
        room = self.limit - previous
        if room <= 0:
            return previous
        return previous + max(1, min(delay, room // 2))

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

    def context(self, customer: XUser) -> _Context:
        context = _Context(first=customer.name.split()[0].capitalize(), sign="")
        context.bits = self.rng.getrandbits(96)
        return context

    # --- posts
    def post(
        self,
        second: int,
        author: XUser,
        text: str,
        mentions: list[XUser],
        parent: Message | None,
    ) -> Message:
        """Append one post to the current conversation; mentions in the order of the text."""
        counter = self.counter
        self.counter = counter + 1
        if counter >= MAX_POSTS_PER_DAY:
            raise ValueError(
                f"more than {MAX_POSTS_PER_DAY} simulated posts on {self.day}; "
                "lower simulation.conversations_per_day"
            )
        conversation = self.conversation
        if conversation:
            # The millisecond stays under 900, so a reply squeezed into its parent's second
            # (see `after`) comes 1 ms after it and still inside that second.
            ms = self.id_base + second * 1000 + int(self.random() * 900)
            if parent is not None and ms <= parent[3]:
                ms = parent[3] + 1
        else:
            # Roots take the exact start drawn for their slot: starts are sorted, so root
            # ids follow slot order (the counter breaks ties within a millisecond).
            ms = self.id_base + self.root_ms
        post_id = str((ms << SEQUENCE_BITS) | self.day_tag | counter)
        days, rest = divmod(second, DAY_SECONDS)
        minute, seconds = divmod(rest, 60)
        created_at = f"{self.prefixes[days]}{_MINUTES[minute]}{_SECONDS[seconds]}"
        conversation_id = conversation[0]["id"] if conversation else post_id
        # One dict literal, not a dict grown key by key: the key order (so the page bytes)
        # is fixed, and the optional parts are only there when the post has them.
        entities = []
        position = 0
        for user in mentions:
            username = user.username
            start = text.index("@" + username, position)
            position = start + 1 + len(username)
            entities.append({"start": start, "end": position, "username": username, "id": user.id})
        post: Post = {
            "id": post_id,
            "text": text,
            "author_id": author.id,
            "created_at": created_at,
            "conversation_id": conversation_id,
            **(
                {
                    "in_reply_to_user_id": parent[1].id,
                    "referenced_tweets": [{"type": "replied_to", "id": parent[0]["id"]}],
                }
                if parent is not None
                else {}
            ),
            **({"entities": {"mentions": entities}} if entities else {}),
            "lang": "en",
            "edit_history_tweet_ids": [post_id],
        }
        conversation.append(post)
        return post, author, mentions, ms

    def signature(self, context: _Context, department: str) -> None:
        # Support and sales agents often sign their replies with their initials (^JM).
        context["team"] = department
        if department in self.world.signing and self.random() < SIGNATURE_SHARE:
            letters = _SIGNATURE_LETTERS
            code = int(self.random() * len(letters) ** 2)
            context["sign"] = f" ^{letters[code // len(letters)]}{letters[code % len(letters)]}"
        else:
            context["sign"] = ""

    def org_reply(
        self,
        second: int,
        account: OrgAccount,
        customer: XUser,
        templates: tuple[str, ...],
        context: _Context,
        parent: Message,
    ) -> Message:
        # Agents trim X's automatic reply prefix to the customer alone.
        self.signature(context, account.department)
        body = templates[int(self.random() * len(templates))].format_map(context)
        return self.post(second, account.user, f"@{customer.username} {body}", [customer], parent)

    def customer_reply(
        self,
        second: int,
        customer: XUser,
        body: str,
        parent: Message,
    ) -> Message:
        # X's automatic prefix: the parent's author, then everyone the parent mentioned.
        author, mentioned = parent[1], parent[2]
        if author != customer and len(mentioned) == 1 and mentioned[0] == customer:
            return self.post(second, customer, f"@{author.username} {body}", [author], parent)
        mentions: list[XUser] = []
        for user in (author, *mentioned):
            if user != customer and user not in mentions:
                mentions.append(user)
        prefix = "".join([f"@{user.username} " for user in mentions])
        return self.post(second, customer, prefix + body, mentions, parent)

    def referral(
        self,
        second: int,
        account: OrgAccount,
        target: OrgAccount,
        customer: XUser,
        context: _Context,
        parent: Message,
    ) -> Message:
        self.signature(context, account.department)
        context["target"] = "@" + target.user.username
        context["target_team"] = target.department
        context["topic"] = texts.TOPICS[self.world.profiles[target.department]]
        body = self.pick(texts.REFERRALS).format_map(context)
        return self.post(
            second, account.user, f"@{customer.username} {body}", [customer, target.user], parent
        )

    # --- conversations
    def mention_conversation(
        self, start: int, customer: XUser, primary: str, referred: str | None, answered: bool
    ) -> None:
        r = self.random
        world = self.world
        context = self.context(customer)
        first = self.account(primary)
        topic_profile = world.profiles[referred or primary]
        body = self.pick(texts.OPENERS[topic_profile]).format_map(context)
        body += self.pick(texts.EMOJI_TAILS)
        departments = world.population.departments
        if len(departments) > 2 and r() < CC_SHARE:
            others = [d for d in departments if d not in (primary, referred)]
            cc = self.account(self.pick(others)).user
            root = self.post(
                start,
                customer,
                f"@{first.user.username} @{cc.username} {body}",
                [first.user, cc],
                None,
            )
        else:
            text = self.pick(texts.MENTION_FRAMES).format(
                dept="@" + first.user.username, body=body, Body=body[0].upper() + body[1:]
            )
            root = self.post(start, customer, text, [first.user], None)
        bot = self.population.bot
        if bot is not None and r() < BOT_SHARE:
            body = self.pick(texts.BOT_REPLIES).format_map(context)
            self.post(
                self.after(start, self.between(20, 180)),
                bot,
                f"@{customer.username} {body}",
                [customer],
                root,
            )
        if not answered:
            if r() < BUMP_SHARE:
                bump = self.pick(texts.BUMPS).format_map(context)
                self.customer_reply(
                    self.after(start, self.between(2 * 3600, 20 * 3600)), customer, bump, root
                )
            return
        when = self.after(start, self.first_response_delay())
        profile = world.profiles[primary]
        if referred is None:
            last = self.org_reply(
                when, first, customer, texts.FIRST_REPLIES[profile], context, root
            )
            exchanges = (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3)
            rounds = self.pick(exchanges)
            for turn in range(rounds):
                context["team"] = primary
                when = self.after(when, self.customer_delay())
                body = self.pick(texts.CUSTOMER_FOLLOWUPS).format_map(context)
                answer = self.customer_reply(when, customer, body, last)
                if turn == rounds - 1 and r() < 0.3:
                    break
                when = self.after(when, self.followup_delay())
                last = self.org_reply(
                    when, first, customer, texts.DEPARTMENT_FOLLOWUPS[profile], context, answer
                )
            return
        parent = root
        if r() < 0.3:
            asked = self.org_reply(when, first, customer, texts.CLARIFYING_REPLIES, context, root)
            when = self.after(when, self.customer_delay())
            context["team"] = primary
            body = self.pick(texts.CUSTOMER_FOLLOWUPS).format_map(context)
            parent = self.customer_reply(when, customer, body, asked)
            when = self.after(when, self.followup_delay())
        self.handoff(when, first, self.account(referred), customer, context, parent)

    def handoff(
        self,
        when: int,
        referrer: OrgAccount,
        target: OrgAccount,
        customer: XUser,
        context: _Context,
        parent: Message,
    ) -> None:
        """`referrer` points the customer at `target`, which then answers in the thread."""
        r = self.random
        last = self.referral(when, referrer, target, customer, context, parent)
        if r() < 0.4:
            when = self.after(when, self.customer_delay())
            last = self.customer_reply(when, customer, self.pick(texts.THANKS), last)
        when = self.after(when, self.handoff_delay())
        target_profile = self.world.profiles[target.department]
        last = self.org_reply(
            when, target, customer, texts.HANDOFF_REPLIES[target_profile], context, last
        )
        # Up to here everything is on the start day and the referrer posts no more, so a
        # window bounded by UTC midnights sees this conversation as co-handled exactly
        # when it contains the start day. Later turns may run past midnight.
        self.limit = self.thread_limit
        if r() < 0.5:
            context["team"] = target.department
            when = self.after(when, self.customer_delay())
            body = self.pick(texts.CUSTOMER_FOLLOWUPS).format_map(context)
            answer = self.customer_reply(when, customer, body, last)
            if r() < 0.6:
                when = self.after(when, self.followup_delay())
                self.org_reply(
                    when,
                    target,
                    customer,
                    texts.DEPARTMENT_FOLLOWUPS[target_profile],
                    context,
                    answer,
                )

    def org_started_conversation(
        self, start: int, customer: XUser, primary: str, referred: str | None
    ) -> None:
        r = self.random
        world = self.world
        context = self.context(customer)
        account = self.account(primary)
        profile = world.profiles[primary]
        text = self.pick(texts.BROADCASTS[profile]).format_map(context)
        root = self.post(start, account.user, text, [], None)
        when = self.after(start, self.between(600, 3 * 3600))
        if referred is None:
            body = self.pick(texts.BROADCAST_REPLIES[profile]).format_map(context)
        else:
            body = self.pick(texts.OPENERS[world.profiles[referred]]).format_map(context)
        opener = self.customer_reply(when, customer, body, root)
        answer_at = self.after(when, self.first_response_delay())
        if referred is None:
            self.org_reply(answer_at, account, customer, texts.BROADCAST_ANSWERS, context, opener)
        else:
            self.handoff(answer_at, account, self.account(referred), customer, context, opener)
        others = (r() < 0.45) + (r() < 0.2 and referred is None)
        for _ in range(others):
            other = self.customer()
            if other.id == customer.id:
                continue
            context["first"] = other.name.split()[0].capitalize()
            when = self.after(when, self.customer_delay())
            parent = opener if r() < 0.3 else root
            body = self.pick(texts.BROADCAST_REPLIES[profile]).format_map(context)
            reply = self.customer_reply(when, other, body, parent)
            if referred is None and r() < 0.5:
                self.org_reply(
                    self.after(when, self.followup_delay()),
                    account,
                    other,
                    texts.BROADCAST_ANSWERS,
                    context,
                    reply,
                )

    def lone_broadcast(self, department: str) -> None:
        account = self.account(department)
        context = self.context(self.population.customer(0))
        text = self.pick(texts.BROADCASTS[self.world.profiles[department]]).format_map(context)
        self.root_ms = self.start_ms()
        self.post(self.root_ms // 1000, account.user, text, [], None)

    def build(self) -> list[Conversation]:
        world = self.world
        per_day = world.per_day
        first_slot = self.day.toordinal() * per_day
        starts = sorted(self.start_ms() for _ in range(per_day))
        conversations: list[Conversation] = []
        r = self.random
        for index, start_ms in enumerate(starts):
            plan = world.plan.slot(first_slot + index)
            self.conversation = []
            self.root_ms = start_ms
            start = start_ms // 1000
            self.thread_limit = start + MAX_THREAD_SECONDS
            # A co-handled conversation is handed off on its start day (see `handoff`).
            self.limit = DAY_SECONDS - 1 if plan.pair else self.thread_limit
            customer = self.customer()
            if plan.pair is None:
                primary, referred = self.solo_department(), None
            elif r() < 0.5:
                primary, referred = plan.pair
            else:
                referred, primary = plan.pair
            if plan.answered and r() < ORG_STARTED_SHARE:
                self.org_started_conversation(start, customer, primary, referred)
            else:
                self.mention_conversation(start, customer, primary, referred, plan.answered)
            conversations.append(self.conversation)
        for department in world.population.departments:
            if r() < LONE_BROADCAST_SHARE:
                self.conversation = []
                self.lone_broadcast(department)
                conversations.append(self.conversation)
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
