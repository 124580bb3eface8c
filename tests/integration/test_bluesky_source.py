"""The Bluesky source drives the real atproto SDK against a local fake PDS + AppView."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ingest.bluesky import (
    BlueskyApiSource,
    BlueskyAuthError,
    BlueskyCredentials,
    BlueskyMalformedPageError,
    BlueskyRateLimitError,
    BlueskyUnavailableError,
)
from ingest.landing import LandingZone, extract_to_landing
from ingest.load import load_landing
from ingest.pages import ExtractRequest, ExtractResult
from ingest.reconcile import reconcile_runs
from tests.bluesky_shapes import Post
from tests.integration.fake_bluesky_api import FakeBlueskyApi, RateLimited, ServerError
from tests.integration.faults import Truncated

CARE = "acmehelp.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def conversation(n: int, start: int) -> list[Post]:
    """A customer mentions Care; Care answers; the customer thanks; a friend chimes in."""
    question = Post(f"3q{n}", f"cust{n}.bsky.social", f"@{CARE} help {n}", at(start), None, [CARE])
    answer = Post(f"3a{n}", CARE, f"on it {n}", at(start + 5), question)
    thanks = Post(f"3t{n}", f"cust{n}.bsky.social", "thanks", at(start + 9), answer)
    aside = Post(f"3s{n}", f"friend{n}.bsky.social", "same here", at(start + 12), question)
    return [question, answer, thanks, aside]


POSTS = [post for n in range(3) for post in conversation(n, 30 * n)]


def request(**since_ids: str) -> ExtractRequest:
    return ExtractRequest("bluesky", CARE, UNTIL, UNTIL - timedelta(days=28), since_ids)


@pytest.fixture
def api():
    with FakeBlueskyApi(list(POSTS), {CARE: PASSWORD}) as server:
        yield server


def source(api, credentials=True, **options) -> BlueskyApiSource:
    options = {"backoff_seconds": 0.01, **options}
    chosen = BlueskyCredentials(CARE, PASSWORD) if credentials else None
    return BlueskyApiSource(chosen, api.base_url, **options)


def run(source, req=None):
    result = ExtractResult()
    pages = list(source.pages(req or request(), result))
    return pages, result


def test_an_account_with_its_app_password_reads_notifications_feed_and_threads(api):
    pages, result = run(source(api))
    assert api.served > 0  # the fake answered: the pages below come from it
    endpoints = [page.endpoint for page in pages]
    assert endpoints[0] == "identity"
    assert endpoints.count("mentions") == 3  # 3 mentions + 3 replies to Care, 2 a page
    assert endpoints.count("posts") == 2
    assert endpoints.count("threads") == 3  # one per root
    assert api.answered["com.atproto.server.createSession"] == 1
    assert "app.bsky.feed.searchPosts" not in api.answered
    # the raw bodies, byte for byte as served: the notifications of mentions only
    first = json.loads(pages[1].body)
    assert [n["reason"] for n in first["notifications"]] == ["reply", "mention"]
    thread = json.loads(pages[-1].body)["thread"]
    assert len(thread["replies"]) == 2 and thread["replies"][0]["replies"]
    assert result.endpoints["threads"].posts == 12
    assert result.endpoints["mentions"].api_errors == 0  # every answer matched the lexicon
    assert result.watermarks["mentions"] == "2026-11-01T09:09:01.000Z"  # newest indexedAt
    assert result.watermarks["posts"] == "2026-11-01T09:05:00.000Z"
    assert result.ceilings == []
    # the notification request asked for the three reasons only
    listed = [p for n, p in api.requests if n == "app.bsky.notification.listNotifications"]
    assert sorted(listed[0]["reasons"]) == ["mention", "quote", "reply"]


def test_without_an_app_password_mentions_are_searched_and_the_gap_is_a_ceiling(api):
    pages, result = run(source(api, credentials=False))
    assert "com.atproto.server.createSession" not in api.answered
    assert api.answered["app.bsky.feed.searchPosts"] == 2
    searched = [p for n, p in api.requests if n == "app.bsky.feed.searchPosts"][0]
    assert searched["mentions"] == [CARE] and searched["sort"] == ["latest"]
    assert searched["q"] == [CARE] and searched["until"] == ["2026-11-02T00:00:00.000Z"]
    assert any(c.startswith("mentions: no app password") for c in result.ceilings)
    assert [p.endpoint for p in pages].count("threads") == 3


def test_a_second_night_asks_only_for_what_is_newer_than_the_watermark(api):
    _, first = run(source(api))
    api.posts.extend(conversation(9, 600))
    api.requests.clear()
    pages, second = run(source(api), request(**first.watermarks))
    mentions = [json.loads(p.body) for p in pages if p.endpoint == "mentions"]
    # the two new notifications fill page 1; page 2 reaches the watermark and paging stops
    assert len(mentions) == 2
    new = {post.uri for post in api.posts[-4:]}
    assert {n["uri"] for n in mentions[0]["notifications"]} <= new
    assert not {n["uri"] for n in mentions[1]["notifications"]} & new
    assert second.watermarks["mentions"] > first.watermarks["mentions"]


def test_rate_limits_are_waited_out_and_counted(api):
    api.faults.add(RateLimited(reset_in=0), endpoint="app.bsky.feed.getAuthorFeed")
    api.faults.add(RateLimited(reset_in=None), endpoint="app.bsky.feed.getPostThread")
    pages, result = run(source(api))
    assert result.endpoints["posts"].rate_limited == 1
    assert result.endpoints["threads"].rate_limited == 1
    assert [p.endpoint for p in pages].count("threads") == 3
    assert api.faults.pending == []


def test_rate_limited_past_the_retries_names_the_endpoint(api):
    api.faults.add(RateLimited(reset_in=0), endpoint="app.bsky.feed.getAuthorFeed", times=3)
    with pytest.raises(BlueskyRateLimitError, match="getAuthorFeed for acmehelp.bsky.social"):
        run(source(api, max_retries=2))


def test_server_errors_are_retried_then_give_up(api):
    api.faults.add(ServerError(503), endpoint="app.bsky.notification.listNotifications")
    pages, _ = run(source(api))
    assert [p.endpoint for p in pages].count("mentions") == 3
    api.faults.add(ServerError(500), endpoint="com.atproto.identity.resolveHandle", times=9)
    with pytest.raises(BlueskyUnavailableError, match="HTTP 500 after 3 attempts"):
        run(source(api, max_retries=2))


def test_a_refused_app_password_fails_at_once_and_never_shows_it(api):
    refused = BlueskyCredentials(CARE, "wrong-pass-word-0000", origin="Connection bluesky_x")
    with pytest.raises(BlueskyAuthError) as caught:
        run(BlueskyApiSource(refused, api.base_url))
    assert "wrong-pass-word-0000" not in str(caught.value)
    assert not caught.value.retryable
    assert "check the handle and app password in Connection bluesky_x" in str(caught.value)
    assert api.requests.count(("com.atproto.server.createSession", {})) == 1
    assert "wrong" not in repr(BlueskyCredentials(CARE, "wrong-pass-word-0000"))


def test_a_truncated_page_is_landed_then_the_account_stops(api, tmp_path):
    api.faults.add(Truncated(0.5), endpoint="app.bsky.feed.getAuthorFeed")
    landing = LandingZone(str(tmp_path / "landing"))
    with pytest.raises(BlueskyMalformedPageError):
        extract_to_landing(source(api), request(), landing, "run-1", "api")
    import duckdb

    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        report = load_landing(con, landing)
        assert report.pages_rejected == 1
        (reason,) = con.execute("select reason from ops.rejects").fetchone()
        assert reason  # the parser's message, kept with the page
        assert con.execute("select count(*) from ops.watermarks").fetchone() == (0,)


def test_landed_pages_load_reconcile_and_load_twice_count_once(api, tmp_path):
    import duckdb

    landing = LandingZone(str(tmp_path / "landing"))
    extract_to_landing(source(api), request(), landing, "run-1", "api")
    with duckdb.connect(str(tmp_path / "db.duckdb")) as con:
        first = load_landing(con, landing)
        assert first.records_loaded == len(POSTS) and first.records_rejected == 0
        (result,) = reconcile_runs(con, landing, UNTIL)
        assert result.problem is None
        again = load_landing(con, landing)
        assert again.records_loaded == 0
        assert con.execute(
            "select count(*), count(distinct uri) from raw.bluesky_posts"
        ).fetchone() == (
            len(POSTS),
            len(POSTS),
        )


def test_what_a_thread_cut_off_or_a_deleted_root_hides_is_a_ceiling(api):
    deleted_root = Post("3gone", "cust7.bsky.social", f"@{CARE} hello?", at(200), None, [CARE])
    api.posts.append(
        Post("3orph", "cust7.bsky.social", f"@{CARE} anyone?", at(201), deleted_root, [CARE])
    )
    pages, result = run(source(api, thread_depth=1))
    assert (
        "threads: 3 thread(s) deeper than 1 levels; 3 repl(ies) below that depth were not served"
        in result.ceilings
    )
    assert f"threads: 1 root post(s) not found (deleted): {deleted_root.uri}" in result.ceilings
    threads = [p for n, p in api.requests if n == "app.bsky.feed.getPostThread"]
    assert {p["depth"][0] for p in threads} == {"1"} and len(threads) == 4
    assert [p.endpoint for p in pages].count("threads") == 3  # the account went on


def test_a_timeout_is_retried_then_named(api, monkeypatch):
    import httpx

    calls = []

    class TimingOut(httpx.HTTPTransport):
        def handle_request(self, request):
            calls.append(request.url.path)
            if len(calls) <= 2:
                raise httpx.ReadTimeout("timed out", request=request)
            return super().handle_request(request)

    pages, result = run(source(api, transport=TimingOut()))
    assert result.endpoints["login"].requests == 3  # two timeouts, then the session
    assert pages[0].endpoint == "identity"
    calls.clear()

    class AlwaysTimingOut(httpx.HTTPTransport):
        def handle_request(self, request):
            raise httpx.ConnectError("refused", request=request)

    with pytest.raises(BlueskyUnavailableError, match="after 3 attempts"):
        run(source(api, transport=AlwaysTimingOut(), max_retries=2))
