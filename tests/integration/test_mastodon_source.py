"""The Mastodon source drives the real Mastodon.py client against a local fake instance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from ingest.landing import LandingZone, extract_to_landing
from ingest.load import load_landing
from ingest.mastodon import (
    MastodonApiSource,
    MastodonAuthError,
    MastodonMalformedPageError,
    MastodonRateLimitError,
    MastodonUnavailableError,
)
from ingest.pages import ExtractRequest, ExtractResult
from ingest.reconcile import reconcile_runs
from tests.integration.fake_mastodon_api import FakeMastodonApi, RateLimited, ServerError
from tests.integration.faults import Truncated
from tests.mastodon_shapes import Toot

CARE = "acmehelp@mastodon.social"
TOKEN = "mastodon-token-do-not-leak-4410"
UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def conversation(n: int, start: int) -> list[Toot]:
    """A customer from another instance mentions Care; Care answers; two more replies."""
    customer = f"cust{n}@fosstodon.org"
    question = Toot(f"q{n}", customer, f"@{CARE} help {n}", at(start), None, [CARE])
    answer = Toot(f"a{n}", CARE, f"@{customer} on it", at(start + 5), question, [customer])
    thanks = Toot(f"t{n}", customer, f"@{CARE} thanks", at(start + 9), answer, [CARE])
    aside = Toot(f"s{n}", f"friend{n}@mastodon.social", "same here", at(start + 12), question)
    return [question, answer, thanks, aside]


TOOTS = [toot for n in range(3) for toot in conversation(n, 30 * n)]


def request(**since_ids: str) -> ExtractRequest:
    return ExtractRequest("mastodon", f"@{CARE}", UNTIL, UNTIL - timedelta(days=28), since_ids)


@pytest.fixture
def api():
    with FakeMastodonApi("mastodon.social", list(TOOTS), {TOKEN: CARE}) as server:
        yield server


def source(api, token=TOKEN, **options) -> MastodonApiSource:
    options = {"backoff_seconds": 0.01, **options}
    return MastodonApiSource(lambda address: token, api.base_url, **options)


def run(source, req=None):
    result = ExtractResult()
    return list(source.pages(req or request(), result)), result


def test_mentions_statuses_and_each_conversation_through_mastodon_py(api):
    pages, result = run(source(api))
    assert api.served > 0
    endpoints = [page.endpoint for page in pages]
    assert endpoints.count("mentions") == 3  # 6 mentions (questions, thanks), 2 a page
    assert endpoints.count("statuses") == 2  # 3 answers
    # a reply's context names its root, then the root's context holds the whole tree
    contexts = [json.loads(p.body) for p in pages if p.endpoint == "threads"]
    assert max(len(c["descendants"]) for c in contexts) == 3
    # Link-header paging: the second page asked with the max_id of the first's Link
    listed = [p for route, p in api.requests if route == "notifications"]
    assert listed[0]["types[]"] == ["mention"] and "max_id" in listed[1]
    assert result.watermarks["mentions"] == max(
        json.loads(p.body)[0]["id"] for p in pages if p.endpoint == "mentions"
    )
    assert result.ceilings == []


def test_without_a_token_notifications_are_skipped_and_the_gap_is_a_ceiling(api):
    pages, result = run(source(api, token=None))
    assert "notifications" not in api.answered
    assert any(c.startswith("mentions: no access token") for c in result.ceilings)
    assert [p.endpoint for p in pages].count("statuses") == 2


def test_a_second_night_stops_at_the_since_id_watermark(api):
    _, first = run(source(api))
    api.toots.extend(conversation(9, 600))
    api.requests.clear()
    pages, second = run(source(api), request(**first.watermarks))
    listed = [p for route, p in api.requests if route == "notifications"]
    assert listed[0]["since_id"] == [first.watermarks["mentions"]]
    mentions = [json.loads(p.body) for p in pages if p.endpoint == "mentions"]
    assert len(mentions) == 1 and len(mentions[0]) == 2  # only the two new mentions
    assert int(second.watermarks["mentions"]) > int(first.watermarks["mentions"])


def test_rate_limits_and_server_errors_are_waited_out(api):
    api.faults.add(RateLimited(reset_in=0), endpoint="notifications")
    api.faults.add(RateLimited(reset_in=None), endpoint="accounts/statuses")
    api.faults.add(ServerError(502), endpoint="statuses/context")
    _, result = run(source(api))
    assert result.endpoints["mentions"].rate_limited == 1
    assert result.endpoints["statuses"].rate_limited == 1
    assert result.endpoints["threads"].requests > result.endpoints["threads"].pages
    assert api.faults.pending == []


def test_past_the_retries_the_failure_names_the_endpoint(api):
    api.faults.add(RateLimited(reset_in=0), endpoint="accounts/statuses", times=3)
    with pytest.raises(MastodonRateLimitError, match="statuses .*acmehelp@mastodon.social"):
        run(source(api, max_retries=2))
    api.faults.add(ServerError(503), endpoint="accounts/lookup", times=3)
    with pytest.raises(MastodonUnavailableError, match="HTTP 503 after 3 attempts"):
        run(source(api, max_retries=2))


def test_a_refused_token_fails_at_once_and_is_never_shown(api):
    hint = lambda address: f"the password of Connection mastodon_{address}"  # noqa: E731
    with pytest.raises(MastodonAuthError) as caught:
        run(source(api, token="wrong-token-0000", token_hint=hint))
    assert "wrong-token-0000" not in str(caught.value)
    assert not caught.value.retryable
    assert str(caught.value).endswith(
        "check the password of Connection mastodon_acmehelp@mastodon.social (value redacted)"
    )
    assert [route for route, _ in api.requests].count("notifications") == 1


def test_a_truncated_page_is_landed_and_rejected_and_moves_no_watermark(api, tmp_path):
    api.faults.add(Truncated(0.5), endpoint="accounts/statuses")
    landing = LandingZone(str(tmp_path / "landing"))
    with pytest.raises(MastodonMalformedPageError):
        extract_to_landing(source(api), request(), landing, "run-1", "api")
    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        assert load_landing(con, landing).pages_rejected == 1
        assert con.execute("select count(*) from ops.watermarks").fetchone() == (0,)


def test_landed_pages_load_reconcile_and_count_once(api, tmp_path):
    landing = LandingZone(str(tmp_path / "landing"))
    extract_to_landing(source(api), request(), landing, "run-1", "api")
    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        report = load_landing(con, landing)
        assert report.records_loaded == len(TOOTS) and report.records_rejected == 0
        assert all(r.problem is None for r in reconcile_runs(con, landing, UNTIL))
        assert load_landing(con, landing).records_loaded == 0
