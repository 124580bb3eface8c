"""Which thread searches a night makes, and what they cannot see: the read strategy.

X bills every post and user a response returns (once per UTC day), so what a night costs
is decided here, before any request. Two strategies:

- "rescan" (the strategy before issue 17): every conversation seen tonight is searched
  over the whole recent-search window (7 days), and every page expands the authors, the
  replied-to and the mentioned users. A conversation active on five nights is read five
  times over.
- "bounded" (the default): a conversation already stored is searched only after the
  newest post stored for it (`since_id`), so a night reads what is new; one first seen
  tonight is searched over the whole window (its root and earlier replies are older than
  any watermark). Pages expand only the authors, the users staging reads.

Both are pure functions of plain values: the extract task gets the stored bounds from the
plan step (which reads DuckDB) in its target, never from DuckDB itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingest.formats.x_api_v2 import snowflake_time
from ingest.live import stamp
from ingest.pages import ExtractRequest
from ingest.x.paging import conversation_queries

STRATEGIES = ("bounded", "rescan")
DEFAULT_STRATEGY = "bounded"

RECENT_SEARCH_WINDOW = timedelta(days=7)
# start_time must stay inside the 7-day window on every page of a search, including one
# requested after a rate-limit wait (15 minutes by default).
SEARCH_WINDOW_SAFETY = timedelta(minutes=30)

# What every page expands. Staging reads only the authors' user objects, and nearly all of
# them are stored already: expanding them re-reads the org's own accounts and its regular
# customers every night. So "bounded" pages expand no user; the authors not stored yet are
# looked up once at the end of the run (`author_lookups`). Referenced posts stay expanded:
# a reply's parent older than the search window (or in a conversation never searched)
# arrives only this way, and one fetched tonight anyway is not billed twice the same day.
EXPANSIONS = {
    "rescan": [
        "author_id",
        "entities.mentions.username",
        "in_reply_to_user_id",
        "referenced_tweets.id",
    ],
    "bounded": ["referenced_tweets.id"],
}
# GET /2/tweets takes at most 100 ids.
LOOKUP_BATCH = 100


def check_strategy(strategy: str) -> str:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown X read strategy {strategy!r}; use one of {list(STRATEGIES)}")
    return strategy


def search_window_start(now: datetime) -> datetime:
    """The oldest start_time recent search accepts now, with a safety margin."""
    return utc_instant(now) - RECENT_SEARCH_WINDOW + SEARCH_WINDOW_SAFETY


def utc_instant(moment: datetime) -> datetime:
    """A plain aware UTC datetime (naive ones are taken as UTC). Airflow hands out pendulum
    DateTimes, whose arithmetic can drop the time zone; comparisons then fail."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment.timestamp(), tz=UTC)


@dataclass(frozen=True)
class ThreadSearch:
    """One recent-search pagination: `query` from `since_id` (exclusive) or `start_time`."""

    query: str
    conversation_ids: tuple[str, ...]
    end_time: datetime
    since_id: str | None = None
    start_time: datetime | None = None


@dataclass(frozen=True)
class ThreadPlan:
    """A night's thread searches and what they cannot see (`threads: ...` ceilings)."""

    searches: list[ThreadSearch]
    ceilings: list[str]


def plan_threads(
    conversations: Collection[str],
    request: ExtractRequest,
    *,
    now: datetime,
    end: datetime,
    max_chars: int,
) -> ThreadPlan:
    """The searches of tonight's `conversations` for `request`, as of `now`, up to `end`.

    The live source and the simulator both plan with this, so they ask the same.
    """
    window_start = search_window_start(now)
    backfill_start = utc_instant(request.backfill_start)
    bounds = stored_bounds(
        conversations, request.stored_threads, window_start, request.read_strategy
    )
    # Backfilling (a timeline without since_id) reaches further back than search can.
    backfilling = not all(request.since_ids.get(e) for e in ("mentions", "tweets"))
    ceilings = thread_ceilings(
        conversations,
        bounds,
        window_start=window_start,
        backfill_start=backfill_start,
        backfilling=backfilling,
    )
    start = max(window_start, backfill_start)
    if not conversations or start >= utc_instant(end):
        return ThreadPlan([], ceilings)
    searches = plan_thread_searches(
        conversations, bounds, start=start, end=end, max_chars=max_chars
    )
    return ThreadPlan(searches, ceilings)


def stored_bounds(
    conversations: Iterable[str],
    stored_newest: Mapping[str, str],
    window_start: datetime,
    strategy: str,
) -> dict[str, str]:
    """Per conversation searched tonight: the newest post stored for it, when it can bound
    a search (recent search refuses a since_id older than its window)."""
    if check_strategy(strategy) == "rescan":
        return {}
    bounds = {}
    for conversation_id in conversations:
        newest = stored_newest.get(conversation_id)
        if newest and snowflake_time(newest) >= window_start:
            bounds[conversation_id] = newest
    return bounds


def plan_thread_searches(
    conversations: Iterable[str],
    bounds: Mapping[str, str],
    *,
    start: datetime,
    end: datetime,
    max_chars: int,
) -> list[ThreadSearch]:
    """The searches covering `conversations`: unbounded ones from `start`, then bounded ones.

    Bounded conversations are batched newest bound first, each query from the oldest
    bound in it, so neighbours in a batch share nearly the same bound and little stored is
    read again.
    """
    unbounded = [c for c in conversations if c not in bounds]
    searches = [
        ThreadSearch(query, _ids(query), end, start_time=start)
        for query in conversation_queries(unbounded, max_chars)
    ]
    for query in conversation_queries(bounds, max_chars, key=lambda c: (int(bounds[c]), int(c))):
        batch = _ids(query)
        since_id = str(min(int(bounds[c]) for c in batch))
        searches.append(ThreadSearch(query, batch, end, since_id=since_id))
    return searches


def thread_ceilings(
    conversations: Iterable[str],
    bounds: Mapping[str, str],
    *,
    window_start: datetime,
    backfill_start: datetime,
    backfilling: bool,
) -> list[str]:
    """What recent search cannot see tonight, each as one `threads: ...` line.

    A conversation searched from the window start whose root is older has posts before the
    window nobody searched; one bounded by a stored post is searched from there, and what
    came before was searched (or recorded as partial) on the night that stored it.
    """
    ceilings = []
    if backfilling and backfill_start < window_start:
        ceilings.append(
            f"threads: recent search covers 7 days; backfill start {stamp(backfill_start)} "
            f"is older, threads before {stamp(window_start)} were not searched"
        )
    partial = [c for c in conversations if c not in bounds and snowflake_time(c) < window_start]
    if partial:
        ceilings.append(
            f"threads: recent search covers 7 days; {len(partial)} conversation(s) started "
            f"before {stamp(window_start)} are partial"
        )
    return ceilings


def author_lookups(
    authors: Mapping[str, str], stored_users: Collection[str], strategy: str
) -> list[list[str]]:
    """The post lookups (`GET /2/tweets?ids=...&expansions=author_id`) that read the user
    object of every author read tonight and not stored yet, at most 100 posts each.

    `authors` maps each author read tonight to one post of theirs read tonight: a post read
    again the same day is not billed again, so a lookup costs only the users it returns.
    """
    if check_strategy(strategy) == "rescan":
        return []  # its pages expanded every author already
    known = set(stored_users)
    posts = sorted((authors[a] for a in authors if a not in known), key=int)
    return [posts[i : i + LOOKUP_BATCH] for i in range(0, len(posts), LOOKUP_BATCH)]


def _ids(query: str) -> tuple[str, ...]:
    return tuple(term.removeprefix("conversation_id:") for term in query.split(" OR "))
