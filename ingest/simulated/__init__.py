"""The simulated X source: seeded, realistic customer conversations with a planted structure.

It is the demo default and the ground truth for tests. Conversations between customers
and the configured organisation's X accounts are generated day by day (UTC) and served as
X API v2 response pages, so nothing after extract can tell them from the live API.

Public surface:

- `SimulatedOrganization`: what the simulator is given (plain values: the org's name, its
  departments' X handles, an ignored bot, the structure to plant, the seed); the app
  builds it from the config (`OrgConfig.for_simulation()`).
- `SimulatedXSource(organization)`: an `ingest.pages.PageSource` for platform "x"; its
  `pages(request, result)` streams the pages of the endpoints "mentions", "tweets" and
  "threads" (see `ENDPOINTS`) for one configured handle.
- `generate_posts(organization, start_day, end_day)`: every post (an X API v2 post object) of
  the conversations that start from `start_day` to `end_day`, both included, oldest first.
- `user_id_for_handle(handle)`: the simulated user id of an org or ignored account.
- `SimulatedWorld(organization)`: the generator itself, for repeated use
  (`conversations(day)`, `department_of(user_id)`, `population.user(user_id)`).
- `page_of(world, posts)`: one X API v2 page of `posts`, with their users (for benchmarks).

The planted structure is `organization.structure` ("siloed", "glued", "networked"),
`conversations_per_day` customer conversations a day; see README.md in this folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from ingest.pages import ExtractRequest, ExtractResult, ResponsePage

from .bluesky_xrpc import serve_bluesky_pages
from .generator import SimulatedWorld, generate_world_posts
from .mastodon_api import serve_mastodon_pages
from .organization import SimulatedOrganization
from .population import user_id_for_handle
from .x_api import ENDPOINTS, PAGE_SIZE, page_of, serve_pages

__all__ = [
    "ENDPOINTS",
    "PAGE_SIZE",
    "SimulatedBlueskySource",
    "SimulatedMastodonSource",
    "SimulatedOrganization",
    "SimulatedWorld",
    "SimulatedXSource",
    "page_of",
    "generate_posts",
    "user_id_for_handle",
]


class SimulatedXSource:
    """Serves simulated X API v2 pages for the configured organisation.

    Construction checks the simulation settings (a glued structure without a
    glue_department, or a networked one with fewer than 5 departments on X, raise
    ValueError), so a wrong config fails before anything runs.
    """

    platform = "x"

    def __init__(self, organization: SimulatedOrganization) -> None:
        self.world = SimulatedWorld(organization)

    def pages(self, request: ExtractRequest, result: ExtractResult) -> Iterator[ResponsePage]:
        """Pages of "mentions", then "tweets", then "threads" for `request.account`.

        Each endpoint: posts created in [request.backfill_start, request.until) with id
        above `request.since_ids[endpoint]` (when given), newest first, 100 a page.
        `result.watermarks[endpoint]` becomes the newest id served (or stays the request's
        since_id when nothing is new); `result.requests` counts the pages and
        `result.endpoints` each endpoint's pages, posts and users. A request for
        another platform or an unconfigured handle raises ValueError at once.
        """
        return serve_pages(self.world, request, result)


class _SimulatedOpenNetwork:
    """The simulated world on another platform: the same planted structure, for an
    organisation given with its accounts there (`OrgConfig.for_simulation(platform)`)."""

    platform: str
    serve: Callable[[SimulatedWorld, ExtractRequest, ExtractResult], Iterator[ResponsePage]]

    def __init__(self, organization: SimulatedOrganization) -> None:
        self.world = SimulatedWorld(organization)

    def pages(self, request: ExtractRequest, result: ExtractResult) -> Iterator[ResponsePage]:
        return type(self).serve(self.world, request, result)


class SimulatedBlueskySource(_SimulatedOpenNetwork):
    """Bluesky XRPC answers (bluesky_xrpc.py): "identity", "mentions", "posts", "threads"."""

    platform = "bluesky"
    serve = staticmethod(serve_bluesky_pages)


class SimulatedMastodonSource(_SimulatedOpenNetwork):
    """Mastodon API answers (mastodon_api.py): "mentions", "statuses", "threads"."""

    platform = "mastodon"
    serve = staticmethod(serve_mastodon_pages)


def generate_posts(
    organization: SimulatedOrganization, start_day: date, end_day: date
) -> list[dict[str, Any]]:
    """All posts of the conversations that start on start_day .. end_day (inclusive, UTC).

    Replies may fall up to 3 days after end_day. Posts are X API v2 post objects (the
    dicts the pages carry), sorted oldest first (by id, which follows created_at).
    """
    return generate_world_posts(SimulatedWorld(organization), start_day, end_day)
