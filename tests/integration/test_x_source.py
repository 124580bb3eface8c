"""XApiSource, hence the real tweepy Client and Paginator, against the local fake X API."""

from __future__ import annotations

import json
import logging
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from ingest.pages import ExtractRequest, ExtractResult, ResponsePage
from ingest.x import (
    XApiSource,
    XAuthError,
    XExtractError,
    XMalformedPageError,
    XRateLimitError,
    XRequestError,
    XUnavailableError,
)
from tests.integration.fake_x_api import (
    FakeXApi,
    HttpError,
    PartialErrors,
    RateLimited,
    Slow,
    Truncated,
    withheld_problem,
)

TOKEN = "fake-bearer-AAAA-do-not-leak-1234567890"
TWEET_FIELDS = {
    "author_id",
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "lang",
}
# What each read strategy expands (ingest/x/thread_plan.py): the bounded one only the
# referenced posts; it looks up the authors it has not stored, once, at the end.
EXPANSIONS = {
    "rescan": {
        "author_id",
        "entities.mentions.username",
        "in_reply_to_user_id",
        "referenced_tweets.id",
    },
    "bounded": {"referenced_tweets.id"},
}


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def api():
    """A started fake that must have served posts by the end of the test."""
    with FakeXApi(token=TOKEN) as fake:
        yield fake
        fake.assert_served()


def make_source(api: FakeXApi, token: str = TOKEN, **overrides) -> XApiSource:
    settings = dict(
        max_retries=3,
        backoff_seconds=0.001,
        max_rate_limit_wait_seconds=0.05,
        request_timeout_seconds=5,
    )
    settings.update(overrides)
    return XApiSource(token, api.base_url, **settings)


def make_request(
    now: datetime,
    *,
    since_ids=None,
    backfill_days: float = 6,
    strategy: str = "bounded",
    stored_threads=None,
) -> ExtractRequest:
    return ExtractRequest(
        platform="x",
        account="acme",
        until=now - timedelta(minutes=1),
        backfill_start=now - timedelta(days=backfill_days),
        since_ids=since_ids or {},
        stored_threads=stored_threads or {},
        read_strategy=strategy,
    )


def run(source: XApiSource, request: ExtractRequest):
    """All pages and the result; on failure, the pages yielded before it and the error."""
    result = ExtractResult()
    pages: list[ResponsePage] = []
    try:
        for page in source.pages(request, result):
            pages.append(page)
    except XExtractError as failure:
        return pages, result, failure
    return pages, result, None


def post_ids(pages: list[ResponsePage], endpoint: str) -> list[str]:
    return [
        post["id"]
        for page in pages
        if page.endpoint == endpoint
        for post in json.loads(page.body).get("data", [])
    ]


def seed_customer_care(api: FakeXApi, now: datetime, *, mentions: int, replies: int) -> dict:
    """`mentions` customers' posts to @acme, the first `replies` of them answered by acme,
    and one customer-to-customer reply that only a thread search finds."""
    acme = api.user("acme")
    customers = [api.user(f"customer{n}") for n in range(mentions)]
    start = now - timedelta(days=3)
    roots = [
        api.post(customer, f"@acme order {n} is late", at=start + timedelta(minutes=n))
        for n, customer in enumerate(customers)
    ]
    answers = [
        api.post(
            acme,
            f"@{root_author['username']} sorry, we are on it",
            at=start + timedelta(hours=6, minutes=n),
            reply_to=root,
        )
        for n, (root, root_author) in enumerate(zip(roots[:replies], customers, strict=False))
    ]
    bystander = api.user("bystander")
    side_reply = api.post(
        bystander,
        f"@{customers[0]['username']} same here",
        at=start + timedelta(days=1),
        reply_to=roots[0],
    )
    return {"acme": acme, "roots": roots, "answers": answers, "side_reply": side_reply}


# ---------------------------------------------------------------- pagination and fields


def test_pages_through_every_endpoint_returning_each_post_once(api, now):
    seeded = seed_customer_care(api, now, mentions=250, replies=30)
    source = make_source(api)

    pages, result, failure = run(source, make_request(now))

    assert failure is None
    mention_pages = [page for page in pages if page.endpoint == "mentions"]
    assert len(mention_pages) >= 3
    mentions = post_ids(pages, "mentions")
    assert Counter(mentions) == Counter(root["id"] for root in seeded["roots"])
    tweets = post_ids(pages, "tweets")
    assert Counter(tweets) == Counter(answer["id"] for answer in seeded["answers"])
    threads = post_ids(pages, "threads")
    expected_threads = [p["id"] for p in seeded["roots"] + seeded["answers"]]
    expected_threads.append(seeded["side_reply"]["id"])
    assert Counter(threads) == Counter(expected_threads)
    # Endpoints in order, and bodies byte for byte what the server sent (valid JSON).
    order = ["mentions", "tweets", "threads", "authors"]
    assert [page.endpoint for page in pages] == sorted(
        (page.endpoint for page in pages), key=order.index
    )
    # every author read was looked up once, by one post of theirs read before
    looked_up = [json.loads(page.body) for page in pages if page.endpoint == "authors"]
    authors = {
        post["author_id"] for page in pages for post in json.loads(page.body).get("data", [])
    }
    users = {user["id"] for body in looked_up for user in body["includes"]["users"]}
    # acme too: the answer of its user lookup is not landed, so staging would lack it
    assert users == authors and seeded["acme"]["id"] in users
    assert {p["id"] for body in looked_up for p in body["data"]} <= set(
        mentions + post_ids(pages, "tweets") + post_ids(pages, "threads")
    )
    assert all(isinstance(json.loads(page.body), dict) for page in pages)

    assert result.requests == len(api.requests)
    assert result.watermarks == {
        "mentions": max(mentions, key=int),
        "tweets": max(tweets, key=int),
        "threads": max(threads, key=int),
    }
    assert result.ceilings == []
    assert source.stats["mentions"].pages == len(mention_pages)
    assert source.stats["mentions"].posts == 250
    assert sum(stats.requests for stats in source.stats.values()) == result.requests - 1


def test_threads_are_searched_in_batches_each_conversation_once(api, now):
    seed_customer_care(api, now, mentions=40, replies=5)
    source = make_source(api)

    pages, result, failure = run(source, make_request(now))

    assert failure is None
    searches = api.requests_to("search")
    queries = {request.params["query"] for request in searches}
    assert len(queries) > 1
    assert all(len(query) <= 512 for query in queries)
    searched = Counter(
        term.removeprefix("conversation_id:") for query in queries for term in query.split(" OR ")
    )
    conversations = {
        json.loads(page.body)["data"][0]["conversation_id"]
        for page in pages
        if page.endpoint == "mentions"
    }
    assert set(searched) >= conversations
    assert set(searched.values()) == {1}


@pytest.mark.parametrize("strategy", ["bounded", "rescan"])
def test_requests_carry_fields_expansions_and_time_bounds(api, now, strategy):
    seed_customer_care(api, now, mentions=3, replies=1)
    request = make_request(now, strategy=strategy)

    pages, result, failure = run(make_source(api), request)

    assert failure is None
    until = request.until.strftime("%Y-%m-%dT%H:%M:%SZ")
    lookup = api.requests_to("user")
    assert [r.path for r in lookup] == ["/2/users/by/username/acme"]
    for endpoint in ("mentions", "tweets", "search"):
        sent = api.requests_to(endpoint)[0].params
        assert set(sent["tweet.fields"].split(",")) == TWEET_FIELDS
        assert set(sent["expansions"].split(",")) == EXPANSIONS[strategy]
        assert set(sent["user.fields"].split(",")) == {"username", "name"}
        assert sent["max_results"] == "100"
        assert sent["end_time"] == until
        assert "since_id" not in sent
    for endpoint in ("mentions", "tweets"):
        sent = api.requests_to(endpoint)[0].params
        assert sent["start_time"] == request.backfill_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    search = api.requests_to("search")[0].params
    assert search["query"].startswith("conversation_id:")
    assert datetime.fromisoformat(search["start_time"]) >= request.backfill_start
    # What was asked for came back: expanded users and referenced posts.
    tweets_page = json.loads(next(page.body for page in pages if page.endpoint == "tweets"))
    expanded = {"users", "tweets"} if strategy == "rescan" else {"tweets"}
    assert set(tweets_page["includes"]) == expanded
    assert {"conversation_id", "in_reply_to_user_id", "referenced_tweets", "entities"} <= set(
        tweets_page["data"][0]
    )


# ---------------------------------------------------------------- incremental runs


def test_second_run_sends_since_id_and_returns_only_new_posts(api, now):
    seeded = seed_customer_care(api, now, mentions=120, replies=10)
    source = make_source(api)
    first_pages, first, failure = run(source, make_request(now))
    assert failure is None
    seen_before = len(api.requests)

    acme = seeded["acme"]
    late = api.user("latecomer")
    new_mention = api.post(late, "@acme still waiting", at=now - timedelta(minutes=10))
    new_answer = api.post(
        acme, "@latecomer checking", at=now - timedelta(minutes=5), reply_to=new_mention
    )

    second_pages, second, failure = run(source, make_request(now, since_ids=first.watermarks))

    assert failure is None
    sent_later = api.requests[seen_before:]
    mentions_sent = [r.params for r in sent_later if r.endpoint == "mentions"]
    tweets_sent = [r.params for r in sent_later if r.endpoint == "tweets"]
    assert mentions_sent[0]["since_id"] == first.watermarks["mentions"]
    assert tweets_sent[0]["since_id"] == first.watermarks["tweets"]
    assert "start_time" not in mentions_sent[0]
    assert post_ids(second_pages, "mentions") == [new_mention["id"]]
    assert post_ids(second_pages, "tweets") == [new_answer["id"]]
    assert sorted(post_ids(second_pages, "threads")) == sorted(
        [new_mention["id"], new_answer["id"]]
    )
    assert second.watermarks["mentions"] == new_mention["id"]
    assert second.watermarks["tweets"] == new_answer["id"]

    third_pages, third, failure = run(source, make_request(now, since_ids=second.watermarks))
    assert failure is None
    assert [page.endpoint for page in third_pages] == ["mentions", "tweets"]  # empty pages
    assert post_ids(third_pages, "mentions") == []
    assert third.watermarks == second.watermarks


# ---------------------------------------------------------------- rate limits and outages


def test_429_with_reset_header_mid_pagination_loses_and_repeats_nothing(api, now, caplog):
    seeded = seed_customer_care(api, now, mentions=250, replies=0)
    api.fail_next(RateLimited(reset_in=30), endpoint="mentions", skip=1)
    caplog.set_level(logging.WARNING, logger="ingest.x")

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert Counter(post_ids(pages, "mentions")) == Counter(r["id"] for r in seeded["roots"])
    sent = api.requests_to("mentions")
    assert [r.status for r in sent] == [200, 429, 200, 200]
    assert sent[1].params == sent[2].params  # the same page asked again
    assert "pagination_token" in sent[2].params
    assert len({r.params.get("pagination_token") for r in sent[2:]}) == 2
    waits = [r.getMessage() for r in caplog.records if "429" in r.getMessage()]
    assert len(waits) == 1
    assert "x-rate-limit-reset" in waits[0]
    assert "in 0.05 s" in waits[0]  # the reset was 30 s away; the cap was 0.05 s


def test_429_without_reset_header_backs_off_then_succeeds(api, now, caplog):
    seeded = seed_customer_care(api, now, mentions=250, replies=0)
    api.fail_next(RateLimited(reset_in=None), endpoint="mentions", skip=2, times=2)
    caplog.set_level(logging.WARNING, logger="ingest.x")

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert Counter(post_ids(pages, "mentions")) == Counter(r["id"] for r in seeded["roots"])
    assert [r.status for r in api.requests_to("mentions")] == [200, 200, 429, 429, 200]
    waits = [r.getMessage() for r in caplog.records if "429" in r.getMessage()]
    assert len(waits) == 2
    assert all("no x-rate-limit-reset header" in message for message in waits)
    assert result.requests == len(api.requests)


def test_429_that_never_ends_fails_clearly_after_bounded_tries(api, now):
    seed_customer_care(api, now, mentions=5, replies=0)
    api.fail_next(RateLimited(reset_in=None), endpoint="tweets", times=100)

    pages, result, failure = run(make_source(api, max_retries=2), make_request(now))

    assert isinstance(failure, XRateLimitError)
    assert failure.endpoint == "tweets"
    assert "X tweets" in str(failure) and "429" in str(failure) and "3 attempts" in str(failure)
    assert len(api.requests_to("tweets")) == 3
    assert [page.endpoint for page in pages] == ["mentions"]
    assert "tweets" not in result.watermarks  # nothing finished there
    assert "mentions" in result.watermarks


def test_500_then_success(api, now):
    seeded = seed_customer_care(api, now, mentions=30, replies=20)
    api.fail_next(HttpError(500), endpoint="tweets")

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert Counter(post_ids(pages, "tweets")) == Counter(a["id"] for a in seeded["answers"])
    sent = api.requests_to("tweets")
    assert [r.status for r in sent] == [500, 200]
    assert sent[0].params == sent[1].params


def test_5xx_that_persists_raises_after_bounded_retries(api, now):
    seed_customer_care(api, now, mentions=5, replies=1)
    api.fail_next(HttpError(503, "Service Unavailable"), endpoint="search", times=100)

    pages, result, failure = run(make_source(api, max_retries=1), make_request(now))

    assert isinstance(failure, XUnavailableError)
    assert "X threads" in str(failure) and "HTTP 503" in str(failure)
    assert len(api.requests_to("search")) == 2
    assert {page.endpoint for page in pages} == {"mentions", "tweets"}


def test_timeout_is_retried(api, now, caplog):
    seeded = seed_customer_care(api, now, mentions=8, replies=0)
    api.fail_next(Slow(1.0), endpoint="mentions")
    caplog.set_level(logging.WARNING, logger="ingest.x")
    source = make_source(api, request_timeout_seconds=0.3)

    pages, result, failure = run(source, make_request(now))

    assert failure is None
    assert Counter(post_ids(pages, "mentions")) == Counter(r["id"] for r in seeded["roots"])
    assert source.stats["mentions"].requests == 2
    assert any("X mentions for @acme: timed out" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- broken and partial bodies


def test_truncated_body_is_yielded_then_the_account_stops(api, now):
    seed_customer_care(api, now, mentions=250, replies=5)
    api.fail_next(Truncated(), endpoint="mentions", skip=1)

    pages, result, failure = run(make_source(api), make_request(now))

    assert isinstance(failure, XMalformedPageError)
    assert failure.endpoint == "mentions" and failure.page == 2
    assert "X mentions" in str(failure) and "page 2" in str(failure)
    assert [page.endpoint for page in pages] == ["mentions", "mentions"]
    broken = pages[-1].body
    assert broken == failure.body
    with pytest.raises(ValueError):
        json.loads(broken)
    assert api.requests[-1].fault == Truncated()  # nothing fetched after the broken page
    assert "mentions" not in result.watermarks  # the gap must be fetched again


def test_200_with_errors_array_is_kept_and_paging_goes_on(api, now):
    seeded = seed_customer_care(api, now, mentions=150, replies=40)
    deleted_root = seeded["roots"][3]
    api.delete_posts([deleted_root["id"]])  # acme's answer now references a deleted post
    api.fail_next(PartialErrors((withheld_problem("1212121212"),)), endpoint="mentions", skip=0)

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    expected_mentions = [r["id"] for r in seeded["roots"] if r is not deleted_root]
    assert Counter(post_ids(pages, "mentions")) == Counter(expected_mentions)
    assert Counter(post_ids(pages, "tweets")) == Counter(a["id"] for a in seeded["answers"])
    first_mentions = json.loads(pages[0].body)
    assert first_mentions["data"] and first_mentions["errors"][0]["resource_id"] == "1212121212"
    tweet_errors = [
        error
        for page in pages
        if page.endpoint == "tweets"
        for error in json.loads(page.body).get("errors", [])
    ]
    assert any(
        error["resource_id"] == deleted_root["id"] and "Could not find tweet" in error["detail"]
        for error in tweet_errors
    )


# ---------------------------------------------------------------- credentials


def _everything_said(failure: BaseException, caplog) -> str:
    return "\n".join(
        [str(failure), repr(failure), *traceback.format_exception(failure), caplog.text]
    )


def test_wrong_token_fails_fast_naming_the_credential_not_revealing_it(now, caplog):
    caplog.set_level(logging.DEBUG)  # tweepy logs request headers at DEBUG
    with FakeXApi(token="the-right-one") as api:
        api.user("acme")
        pages, result, failure = run(make_source(api, token=TOKEN), make_request(now))

        assert isinstance(failure, XAuthError)
        assert len(api.requests) == 1  # no retries
        assert api.requests[0].status == 401
    assert pages == []
    message = str(failure)
    assert "X bearer token" in message
    assert "user lookup" in message and "@acme" in message
    assert TOKEN not in _everything_said(failure, caplog)
    assert "Bearer ***" in caplog.text  # tweepy's request log was redacted, not silenced


def test_a_refused_token_says_where_the_app_set_it(now):
    with FakeXApi(token="the-right-one") as api:
        api.user("acme")
        source = make_source(api, token_hint="the password of Airflow Connection x_default")
        pages, result, failure = run(source, make_request(now))

    assert isinstance(failure, XAuthError) and not failure.retryable
    assert str(failure) == (
        "X user lookup (GET /2/users/by/username/:username) for @acme: the X bearer token was "
        "refused (HTTP 401: Unauthorized); check the token in the password of Airflow "
        "Connection x_default (value redacted)"
    )


def test_forbidden_on_an_endpoint_names_it(api, now, caplog):
    caplog.set_level(logging.DEBUG)
    seed_customer_care(api, now, mentions=5, replies=1)
    api.fail_next(HttpError(403, "Forbidden"), endpoint="tweets")

    pages, result, failure = run(make_source(api), make_request(now))

    assert isinstance(failure, XAuthError)
    assert failure.status == 403 and failure.endpoint == "tweets"
    assert "X bearer token" in str(failure) and "X tweets" in str(failure)
    assert len(api.requests_to("tweets")) == 1
    assert TOKEN not in _everything_said(failure, caplog)


def test_token_never_reaches_logs_or_pages_on_a_normal_run(api, now, caplog):
    caplog.set_level(logging.DEBUG)
    seed_customer_care(api, now, mentions=5, replies=2)
    source = make_source(api)

    pages, result, failure = run(source, make_request(now))

    assert failure is None
    assert TOKEN not in caplog.text
    assert all(TOKEN.encode() not in page.body for page in pages)
    assert TOKEN not in repr(source)


# ---------------------------------------------------------------- ceilings and odd cases


def test_mentions_cap_is_recorded_as_a_ceiling(api, now):
    acme = api.user("acme")
    alice = api.user("alice")
    root = api.post(alice, "@acme thread starter", at=now - timedelta(days=2))
    for n in range(810):
        api.post(
            alice, f"@acme follow-up {n}", at=now - timedelta(days=1, seconds=-n), reply_to=root
        )
    api.post(acme, "@alice on it", at=now - timedelta(hours=1), reply_to=root)

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert len(post_ids(pages, "mentions")) == 800
    assert len([c for c in result.ceilings if c.startswith("mentions:")]) == 1
    assert "800 newest" in result.ceilings[0]
    assert len(post_ids(pages, "threads")) == 812  # search reaches past the cap


def test_recent_search_window_is_recorded_and_respected(api, now):
    acme = api.user("acme")
    alice = api.user("alice")
    old_root = api.post(alice, "@acme old problem", at=now - timedelta(days=10))
    api.post(alice, "@acme still broken", at=now - timedelta(days=1), reply_to=old_root)
    api.post(acme, "@alice sorry!", at=now - timedelta(hours=2), reply_to=old_root)

    pages, result, failure = run(make_source(api), make_request(now, backfill_days=30))

    assert failure is None
    assert len(post_ids(pages, "mentions")) == 2
    threads_ceilings = [c for c in result.ceilings if c.startswith("threads:")]
    assert len(threads_ceilings) == 2
    assert any("backfill start" in c for c in threads_ceilings)
    assert any("1 conversation(s)" in c for c in threads_ceilings)
    search = api.requests_to("search")[0]
    assert search.status == 200
    started = datetime.fromisoformat(search.params["start_time"])
    assert started > now - timedelta(days=7)
    assert old_root["id"] not in post_ids(pages, "threads")

    api.post(alice, "@acme hello??", at=now - timedelta(minutes=30), reply_to=old_root)
    pages, second, failure = run(
        make_source(api), make_request(now, since_ids=result.watermarks, backfill_days=30)
    )
    assert failure is None
    assert [c for c in second.ceilings if "backfill start" in c] == []
    assert [c for c in second.ceilings if "1 conversation(s)" in c]


# ---------------------------------------------------------------- what a night costs


def stored_threads_of(pages: list[ResponsePage]) -> dict[str, str]:
    """Per conversation, the newest post the pages brought (what the plan step reads)."""
    newest: dict[str, str] = {}
    for page in pages:
        for post in json.loads(page.body).get("data", []):
            conversation = post["conversation_id"]
            if int(post["id"]) > int(newest.get(conversation, "0")):
                newest[conversation] = post["id"]
    return newest


def ledger(result: ExtractResult) -> int:
    return sum(counts.billable_reads for counts in result.endpoints.values())


@pytest.mark.parametrize("strategy", ["bounded", "rescan"])
def test_the_ledger_is_what_x_bills(api, now, strategy):
    seed_customer_care(api, now, mentions=250, replies=30)

    pages, result, failure = run(make_source(api), make_request(now, strategy=strategy))

    assert failure is None
    assert ledger(result) == api.billed_reads
    # Every mention comes back from the mentions timeline and again from its thread
    # search, and @acme on every page: counted per response, it would be far more.
    returned = 0
    for page in pages:
        body = json.loads(page.body)
        includes = body.get("includes", {})
        returned += sum(len(body.get(key, [])) for key in ("data",))
        returned += len(includes.get("tweets", [])) + len(includes.get("users", []))
    assert returned + 1 > ledger(result) * 1.5


def add_a_night(api: FakeXApi, now: datetime, seeded: dict) -> dict:
    """A new reply in a stored conversation, and a conversation first seen tonight whose
    root (two days old) mentions no one: only a search over the window finds it."""
    customer = api.user("newcomer")
    old_root = api.post(customer, "my blender smokes", at=now - timedelta(days=2))
    tagged = api.post(
        customer, "@acme look at this", at=now - timedelta(minutes=40), reply_to=old_root
    )
    follow_up = api.post(
        api.user("customer0x"),
        f"@{seeded['acme']['username']} any news?",
        at=now - timedelta(minutes=20),
        reply_to=seeded["roots"][0],
    )
    return {"old_root": old_root, "tagged": tagged, "follow_up": follow_up}


def test_bounded_reads_only_what_is_new_and_misses_nothing_rescan_stores(now):
    stored: dict[str, set[str]] = {}
    bills: dict[str, int] = {}
    for strategy in ("rescan", "bounded"):
        with FakeXApi(token=TOKEN) as api:
            seeded = seed_customer_care(api, now - timedelta(hours=2), mentions=40, replies=20)
            request = make_request(now - timedelta(hours=1), strategy=strategy)
            first_pages, first, failure = run(make_source(api), request)
            assert failure is None
            night = add_a_night(api, now, seeded)
            searches_before = len(api.requests_to("search"))
            second_pages, second, failure = run(
                make_source(api),
                make_request(
                    now,
                    since_ids=first.watermarks,
                    strategy=strategy,
                    stored_threads=stored_threads_of(first_pages),
                ),
            )
            assert failure is None
            # a second night is another UTC day: everything it returns is billed again
            bills[strategy] = ledger(second)
            searches = [r.params for r in api.requests_to("search")[searches_before:]]
            # the two fakes draw different ids for the same posts: compare what they say
            stored[strategy] = {
                (post["created_at"], post["text"])
                for page in first_pages + second_pages
                for post in json.loads(page.body).get("data", [])
            }
        for post in (night["old_root"], night["follow_up"]):
            assert (post["created_at"], post["text"]) in stored[strategy]
        if strategy == "bounded":
            known = seeded["roots"][0]["conversation_id"]
            bounded = [s for s in searches if f"conversation_id:{known}" in s["query"]]
            fresh = [s for s in searches if night["old_root"]["id"] in s["query"]]
            assert bounded and all("start_time" not in s for s in bounded)
            assert int(bounded[0]["since_id"]) == int(stored_threads_of(first_pages)[known])
            assert fresh and all("since_id" not in s for s in fresh)
            # a conversation first seen tonight: searched from the backfill start (6 days)
            assert datetime.fromisoformat(fresh[0]["start_time"]) < now - timedelta(days=5)
            # a stored conversation's root is not read again
            assert post_ids(second_pages, "threads").count(seeded["roots"][0]["id"]) == 0
    assert stored["rescan"] <= stored["bounded"]
    assert bills["bounded"] < bills["rescan"]


def test_a_stored_bound_older_than_the_search_window_is_not_sent(api, now):
    """Recent search refuses a since_id from before its window: such a conversation is
    searched over the window instead, and recorded as partial."""
    api.user("acme")
    alice = api.user("alice")
    old_root = api.post(alice, "@acme old problem", at=now - timedelta(days=10))
    api.post(alice, "@acme back again", at=now - timedelta(hours=3), reply_to=old_root)
    stored = {old_root["conversation_id"]: old_root["id"]}

    pages, result, failure = run(
        make_source(api),
        make_request(
            now,
            since_ids={"mentions": old_root["id"], "tweets": old_root["id"]},
            stored_threads=stored,
        ),
    )

    assert failure is None
    search = api.requests_to("search")[-1]
    assert search.status == 200 and "since_id" not in search.params
    assert any("1 conversation(s)" in c for c in result.ceilings)
    assert len(post_ids(pages, "threads")) == 1  # the reply; the root is past the window


def test_unknown_account_fails_clearly(api, now):
    seed_customer_care(api, now, mentions=1, replies=0)
    request = ExtractRequest("x", "nobody_here", until=now, backfill_start=now - timedelta(days=1))
    with pytest.raises(XRequestError, match="no such user"):
        list(make_source(api).pages(request, ExtractResult()))
    run(make_source(api), make_request(now))  # and the fixture still sees posts served


def test_a_given_session_carries_the_requests(api, now):
    seed_customer_care(api, now, mentions=3, replies=1)

    class CountingSession(requests.Session):
        sent = 0

        def request(self, method, url, *args, **kwargs):
            CountingSession.sent += 1
            assert url.startswith(api.base_url)
            return super().request(method, url, *args, **kwargs)

    source = make_source(api, session=CountingSession())
    pages, result, failure = run(source, make_request(now))

    assert failure is None
    assert CountingSession.sent == result.requests == len(api.requests)


def test_the_served_guard_fails_when_the_fake_served_nothing(now):
    with FakeXApi(token=TOKEN) as api:
        api.user("acme")
        pages, result, failure = run(make_source(api), make_request(now))
        assert failure is None and post_ids(pages, "mentions") == []
        with pytest.raises(AssertionError, match="served no posts"):
            api.assert_served()
