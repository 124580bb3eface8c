"""The posts of one simulated day, as X API v2 post objects.

Ids are snowflakes that follow `created_at`, timestamps are squeezed so a conversation
stays inside the time it is allowed, and replies carry the `@` prefixes X and its users
write. The conversation kinds (conversations.py) say who posts what, and when.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ingest.formats.x_api_v2 import SNOWFLAKE_EPOCH_MS, SNOWFLAKE_SEQUENCE_BITS

from . import texts
from .draws import DayDraws, TemplateContext
from .population import OrgAccount, XUser

if TYPE_CHECKING:
    from .generator import SimulatedWorld

Post = dict[str, Any]
Conversation = list[Post]
# A post as the generator threads it through a conversation: the post, its author, the
# users it mentions (for X's reply prefix) and its id's millisecond part.
Message = tuple[Post, XUser, list[XUser], int]

X_EPOCH_MS = SNOWFLAKE_EPOCH_MS
SEQUENCE_BITS = SNOWFLAKE_SEQUENCE_BITS
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

SIGNATURE_SHARE = 0.4
_SIGNATURE_LETTERS = "ABCDEFGHJKLMNPRSTW"
_MINUTES = [f"{minute // 60:02d}:{minute % 60:02d}:" for minute in range(24 * 60)]
_SECONDS = [f"{second:02d}.000Z" for second in range(60)]


def _iso_day_prefixes(day: date) -> list[str]:
    return [(day + timedelta(days=offset)).isoformat() + "T" for offset in range(SPILL_DAYS)]


def day_start_ms(day: date) -> int:
    """Midnight UTC of `day`, in ms since the Unix epoch."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


class PostWriter:
    """Writes one day's posts: its id counter, its timestamps and the current conversation."""

    def __init__(self, world: SimulatedWorld, day: date, draws: DayDraws) -> None:
        day_ms = day_start_ms(day)
        if day_ms <= X_EPOCH_MS:
            raise ValueError(f"cannot simulate {day}: X snowflake ids start on 2010-11-04")
        self.world = world
        self.day = day
        self.draws = draws
        self.random = draws.random
        self.id_base = day_ms - X_EPOCH_MS
        self.day_tag = (day.toordinal() % (1 << DAY_TAG_BITS)) << COUNTER_BITS
        self.counter = 0
        self.prefixes = _iso_day_prefixes(day)
        self.conversation: Conversation = []
        self.root_ms = 0
        self.limit = 0
        self.thread_limit = 0

    def begin(self, root_ms: int, limit: int = 0, thread_limit: int = 0) -> Conversation:
        """Start a conversation whose root is posted `root_ms` after midnight.

        Its posts stay at or before second `limit` (see `after`) until `lift_limit`,
        then at or before `thread_limit`.
        """
        self.conversation = []
        self.root_ms = root_ms
        self.limit = limit
        self.thread_limit = thread_limit
        return self.conversation

    def lift_limit(self) -> None:
        self.limit = self.thread_limit

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

    def signature(self, context: TemplateContext, department: str) -> None:
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
        context: TemplateContext,
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
        context: TemplateContext,
        parent: Message,
    ) -> Message:
        self.signature(context, account.department)
        context["target"] = "@" + target.user.username
        context["target_team"] = target.department
        context["topic"] = texts.TOPICS[self.world.profiles[target.department]]
        body = self.draws.pick(texts.REFERRALS).format_map(context)
        return self.post(
            second, account.user, f"@{customer.username} {body}", [customer, target.user], parent
        )
