"""The client interface every source implements: pages in, exactly as received."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ExtractRequest:
    """What one extract task asks of a source for one (platform, account).

    `since_ids` holds the watermark of each endpoint from the last loaded run (absent on
    the first run, which backfills from `backfill_start`). Nothing created at or after
    `until` is fetched, so a run covers its data interval and no more.

    `stored_threads` maps a thread (X: a conversation id) to the newest message already
    stored for it, so a source may read only what is newer; `stored_users` the users whose
    objects are stored (authors of recent posts), not to be read again; `read_strategy` how a
    source spends its reads (X: "bounded" uses `stored_threads`, "rescan" re-reads every
    active thread over the search window; ingest/x/thread_plan.py).
    """

    platform: str
    account: str
    until: datetime
    backfill_start: datetime
    since_ids: Mapping[str, str] = field(default_factory=dict)
    stored_threads: Mapping[str, str] = field(default_factory=dict)
    stored_users: Collection[str] = ()
    read_strategy: str = "bounded"


@dataclass(frozen=True)
class ResponsePage:
    """One API response body, byte for byte, and the endpoint that returned it."""

    endpoint: str
    body: bytes


@dataclass
class EndpointCounts:
    """What one endpoint cost and returned in one extract run (ops.extract_endpoints)."""

    requests: int = 0  # HTTP attempts, retries included
    pages: int = 0  # response pages yielded, so landed
    posts: int = 0  # the messages the endpoint answered with (X: items in `data`)
    included_posts: int = 0  # posts a page refers to (X: `includes.tweets`)
    users: int = 0  # user objects returned (X: `includes.users`, the user lookup)
    api_errors: int = 0  # problems inside successful answers (deleted or withheld posts)
    rate_limited: int = 0  # "too many requests" answers waited out or given up on
    billable_reads: int = 0  # what the platform bills as reads (X: once per resource a day)


@dataclass
class ExtractResult:
    """Filled in by a source while its pages are consumed.

    `watermarks` is the since_id to use next time, per endpoint; `ceilings` names every
    API limit that was hit (a gap in the data that must be visible, never silent), each
    starting with the endpoint's name and a colon when it concerns one endpoint.
    `requests` counts every HTTP attempt of the run; `endpoints` breaks the work down per
    endpoint.
    """

    watermarks: dict[str, str] = field(default_factory=dict)
    ceilings: list[str] = field(default_factory=list)
    requests: int = 0
    endpoints: dict[str, EndpointCounts] = field(default_factory=dict)

    def endpoint(self, name: str) -> EndpointCounts:
        """The counts of endpoint `name`, created empty on first use."""
        return self.endpoints.setdefault(name, EndpointCounts())

    def count_attempt(self, endpoint: str) -> None:
        """One HTTP attempt at `endpoint`, retries included (a live client's on_attempt)."""
        self.requests += 1
        self.endpoint(endpoint).requests += 1

    def count_rate_limited(self, endpoint: str) -> None:
        """One 429 from `endpoint` (a live client's on_rate_limited)."""
        self.endpoint(endpoint).rate_limited += 1


class PageSource(Protocol):
    """A source of response pages for one platform (live API, fake server or simulator)."""

    platform: str

    def pages(self, request: ExtractRequest, result: ExtractResult) -> Iterator[ResponsePage]:
        """Yield pages for `request`, newest first within an endpoint, and fill `result`."""
        ...
