"""The simulated world served as Bluesky and Mastodon answers: seeded, byte-identical
across runs, the same conversations as on X, and a wrong request refused at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ingest.pages import ExtractRequest, ExtractResult
from ingest.simulated import SimulatedBlueskySource, SimulatedMastodonSource, SimulatedXSource
from siloscope.config import OrgConfig

UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
HANDLES = {
    "x": ("AcmeHelp", "Acme", "AcmeSales"),
    "bluesky": ("acmehelp.bsky.social", "acme.com", "sales.acme.com"),
    "mastodon": ("@acmehelp@acme.social", "@acme@acme.social", "@sales@acme.social"),
}
SOURCES = {
    "x": SimulatedXSource,
    "bluesky": SimulatedBlueskySource,
    "mastodon": SimulatedMastodonSource,
}


def config(platform: str) -> OrgConfig:
    care, marketing, sales = HANDLES[platform]
    return OrgConfig.model_validate(
        {
            "organization": "Acme",
            "departments": [
                {"name": "Care", "accounts": {platform: [care]}},
                {"name": "Marketing", "accounts": {platform: [marketing]}},
                {"name": "Sales", "accounts": {platform: [sales]}},
            ],
            "simulation": {"structure": "glued", "glue_department": "Care"},
        }
    )


def serve(platform: str, account: str | None = None):
    source = SOURCES[platform](config(platform).for_simulation(platform))
    account = account or HANDLES[platform][0].lstrip("@")
    request = ExtractRequest(platform, account, UNTIL, UNTIL - timedelta(days=3))
    result = ExtractResult()
    return list(source.pages(request, result)), result


@pytest.mark.parametrize("platform", ["bluesky", "mastodon"])
def test_the_same_request_serves_the_same_bytes(platform):
    first, _ = serve(platform)
    again, _ = serve(platform)
    assert [p.body for p in first] == [p.body for p in again] and len(first) > 3


@pytest.mark.parametrize("platform", ["bluesky", "mastodon"])
def test_the_account_takes_part_in_as_many_conversations_as_on_x(platform):
    x_pages, _ = serve("x")
    conversations_on_x = {
        post["conversation_id"]
        for page in x_pages
        if page.endpoint == "threads"
        for post in json.loads(page.body).get("data", [])
    }
    pages, result = serve(platform)
    roots = result.endpoints["threads"].pages
    if platform == "mastodon":  # a reply's context first, then each root's
        roots = sum(
            1 for p in pages if p.endpoint == "threads" and not json.loads(p.body)["ancestors"]
        )
    assert roots == len(conversations_on_x) > 0


@pytest.mark.parametrize("platform", ["bluesky", "mastodon"])
def test_a_wrong_account_or_platform_is_refused_at_once(platform):
    source = SOURCES[platform](config(platform).for_simulation(platform))
    with pytest.raises(ValueError, match="is not a configured"):
        source.pages(ExtractRequest(platform, "someone.else", UNTIL, UNTIL), ExtractResult())
    with pytest.raises(ValueError, match="cannot serve 'x'"):
        source.pages(ExtractRequest("x", "AcmeHelp", UNTIL, UNTIL), ExtractResult())
