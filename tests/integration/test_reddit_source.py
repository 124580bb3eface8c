"""RedditApiSource, hence the real praw client, against the local fake Reddit API."""

from __future__ import annotations

import json
import logging
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ingest.pages import ExtractRequest, ExtractResult, ResponsePage
from ingest.reddit import (
    RedditApiSource,
    RedditAuthError,
    RedditCredentials,
    RedditExtractError,
    RedditMalformedPageError,
    RedditRateLimitError,
    RedditRequestError,
    RedditUnavailableError,
)
from tests.integration.fake_reddit_api import (
    FakeRedditApi,
    HttpError,
    QuotaExhausted,
    RateLimited,
    Slow,
    Truncated,
)

CLIENT_ID = "client-id-Zq81x"
CLIENT_SECRET = "client-secret-do-not-leak-7731"
PASSWORD = "password-do-not-leak-4410"
SECRETS = (CLIENT_ID, CLIENT_SECRET, PASSWORD)


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def api():
    """A started fake that must have served comments or submissions by the end."""
    with FakeRedditApi(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as fake:
        yield fake
        fake.assert_served()


def credentials(username: str = "AcmeSupport", password: str = PASSWORD) -> RedditCredentials:
    return RedditCredentials(CLIENT_ID, CLIENT_SECRET, username, password)


def make_source(api: FakeRedditApi, creds: RedditCredentials | None = None, **overrides):
    settings = dict(
        max_retries=3,
        backoff_seconds=0.001,
        max_rate_limit_wait_seconds=0.05,
        request_timeout_seconds=5,
    )
    settings.update(overrides)
    return RedditApiSource(creds or credentials(), api.base_url, **settings)


def make_request(now, account="AcmeSupport", *, since_ids=None, backfill_days=6):
    return ExtractRequest(
        platform="reddit",
        account=account,
        until=now + timedelta(minutes=1),
        backfill_start=now - timedelta(days=backfill_days),
        since_ids=since_ids or {},
    )


def run(source: RedditApiSource, request: ExtractRequest):
    """All pages and the result; on failure, the pages yielded before it and the error."""
    result = ExtractResult()
    pages: list[ResponsePage] = []
    try:
        for page in source.pages(request, result):
            pages.append(page)
    except RedditExtractError as failure:
        return pages, result, failure
    return pages, result, None


def listing_ids(pages: list[ResponsePage], endpoint: str) -> list[str]:
    return [
        thing["data"]["name"]
        for page in pages
        if page.endpoint == endpoint
        for thing in json.loads(page.body)["data"]["children"]
    ]


def thread_ids(pages: list[ResponsePage]) -> set[str]:
    """Every comment and submission in the threads pages, nested replies included."""
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("kind") in ("t1", "t3"):
                found.add(node["data"]["name"])
                walk(node["data"].get("replies"))
            elif node.get("kind") == "Listing":
                walk(node["data"]["children"])
            elif "json" in node:
                walk(node["json"]["data"]["things"])

    for page in pages:
        if page.endpoint == "threads":
            walk(json.loads(page.body))
    return found


def seed_support(api: FakeRedditApi, now: datetime, *, customers: int) -> dict:
    """`customers` posts in r/acme, each mentioning u/AcmeSupport in a comment that the
    account answers, and one post the account wrote itself."""
    acme = api.account("AcmeSupport", password=PASSWORD)
    start = now - timedelta(days=3)
    posts, mentions, answers = [], [], []
    for n in range(customers):
        customer = api.user(f"customer{n}")
        post = api.submission(customer, f"Order {n} is late", at=start + timedelta(minutes=n))
        mention = api.comment(
            customer,
            "u/AcmeSupport any news?",
            parent=post,
            at=start + timedelta(minutes=n, seconds=30),
        )
        answer = api.comment(
            acme, "Looking into it", parent=mention, at=start + timedelta(hours=5, minutes=n)
        )
        posts.append(post)
        mentions.append(mention)
        answers.append(answer)
    own = api.submission(acme, "Service update", at=start + timedelta(hours=12))
    return {"acme": acme, "posts": posts, "mentions": mentions, "answers": answers, "own": own}


def _everything_said(failure: BaseException | None, caplog) -> str:
    parts = [caplog.text]
    if failure is not None:
        parts += [str(failure), repr(failure), *traceback.format_exception(failure)]
    return "\n".join(parts)


# ---------------------------------------------------------------- paging and endpoints


def test_pages_every_listing_with_after_and_fetches_each_thread(api, now, caplog):
    seeded = seed_support(api, now, customers=130)
    fan = api.user("fan")
    to_answer = api.comment(
        fan, "thanks!", parent=seeded["answers"][0], at=now - timedelta(hours=2)
    )
    to_post = api.comment(fan, "great update", parent=seeded["own"], at=now - timedelta(hours=1))
    source = make_source(api)

    pages, result, failure = run(source, make_request(now))

    assert failure is None
    assert Counter(listing_ids(pages, "mentions")) == Counter(m["name"] for m in seeded["mentions"])
    assert Counter(listing_ids(pages, "comments")) == Counter(a["name"] for a in seeded["answers"])
    assert listing_ids(pages, "submissions") == [seeded["own"]["name"]]
    assert listing_ids(pages, "inbox_replies") == [to_answer["name"]]  # to its comment
    assert listing_ids(pages, "post_replies") == [to_post["name"]]  # to its submission
    # paging: each next page asked `after` the last item of the page before
    sent = api.requests_to("mentions")
    assert len(sent) == 2 and "after" not in sent[0].params
    first_page = json.loads(next(p for p in pages if p.endpoint == "mentions").body)
    assert sent[1].params["after"] == first_page["data"]["children"][-1]["data"]["name"]
    assert all(request.params["limit"] == "100" for request in sent)
    assert all(request.params["mark"] == "false" for request in sent)  # nothing marked read
    assert [r.params["sort"] for r in api.requests_to("comments")] == ["new", "new"]
    # one comment tree per submission found, every comment of it landed
    assert len(api.requests_to("thread")) == 131
    everything = {p["name"] for p in seeded["posts"] + [seeded["own"]]}
    everything |= {c["name"] for c in seeded["mentions"] + seeded["answers"]}
    everything |= {to_answer["name"], to_post["name"]}
    assert thread_ids(pages) == everything
    # endpoints in order; the bodies are what the server sent
    order = ["mentions", "inbox_replies", "post_replies", "comments", "submissions", "threads"]
    assert [p.endpoint for p in pages] == sorted((p.endpoint for p in pages), key=order.index)
    # every attempt is counted: a kept-alive connection the server had just closed is
    # retried without reaching it (more likely on a loaded machine), and shows as a retry
    connection_retries = caplog.text.count("; retry ")
    assert result.requests == len(api.requests) + connection_retries
    assert result.ceilings == []
    mentions = result.endpoints["mentions"]
    assert (mentions.pages, mentions.posts, mentions.billable_reads) == (2, 130, 2)
    assert set(result.endpoints) == {"login", *order}
    assert result.endpoints["login"].requests == 1
    assert sum(counts.requests for counts in result.endpoints.values()) == result.requests
    newest_mention = max(m["created_utc"] for m in seeded["mentions"])
    assert result.watermarks["mentions"] == str(int(newest_mention))
    assert result.watermarks["submissions"] == str(int(seeded["own"]["created_utc"]))


def test_second_run_fetches_only_what_is_newer_than_the_watermark(api, now):
    seeded = seed_support(api, now, customers=150)
    source = make_source(api)
    _, first, failure = run(source, make_request(now))
    assert failure is None
    seen_before = len(api.requests)

    late = api.user("latecomer")
    post = api.submission(late, "Still no parcel", at=now - timedelta(minutes=20))
    mention = api.comment(late, "u/AcmeSupport hello?", parent=post, at=now - timedelta(minutes=15))
    answer = api.comment(seeded["acme"], "On it", parent=mention, at=now - timedelta(minutes=10))

    pages, second, failure = run(source, make_request(now, since_ids=first.watermarks))

    assert failure is None
    later = api.requests[seen_before:]
    # one page per listing: paging stopped at the page that reached the watermark
    for endpoint in ("mentions", "inbox_replies", "post_replies", "comments", "submissions"):
        asked = [r for r in later if r.endpoint == endpoint]
        assert len(asked) == 1 and "after" not in asked[0].params, endpoint
    # what is newer than the watermark is exactly what was added
    mark = float(first.watermarks["mentions"])
    created = {m["name"]: m["created_utc"] for m in seeded["mentions"] + [mention]}
    landed = listing_ids(pages, "mentions")
    assert [name for name in landed if created[name] > mark] == [mention["name"]]
    # only the new conversation's thread is fetched again
    assert [r.path.strip("/") for r in later if r.endpoint == "thread"] == [
        f"comments/{post['id']}"
    ]
    assert thread_ids(pages) == {post["name"], mention["name"], answer["name"]}
    assert second.watermarks["mentions"] == str(int(mention["created_utc"]))
    assert second.watermarks["comments"] == str(int(answer["created_utc"]))
    assert second.watermarks["submissions"] == first.watermarks["submissions"]


def test_items_after_until_land_but_do_not_move_the_watermark(api, now):
    seeded = seed_support(api, now, customers=3)
    request = make_request(now)
    late = api.comment(
        api.user("night_owl"),
        "u/AcmeSupport hi",
        parent=seeded["posts"][0],
        at=request.until + timedelta(minutes=5),
    )

    pages, result, failure = run(make_source(api), request)

    assert failure is None
    assert late["name"] in listing_ids(pages, "mentions")
    newest_before = max(m["created_utc"] for m in seeded["mentions"])
    assert result.watermarks["mentions"] == str(int(newest_before))


def test_keyword_search_in_a_subreddit_finds_posts_and_their_threads(api, now):
    seeded = seed_support(api, now, customers=2)
    fan = api.user("fan")
    match = api.submission(fan, "Acme blender broke", at=now - timedelta(hours=3))
    reply = api.comment(seeded["acme"], "DM us please", parent=match, at=now - timedelta(hours=2))
    other_sub = api.submission(
        fan, "acme blender", at=now - timedelta(hours=3), subreddit="cooking"
    )
    api.submission(fan, "Unrelated", at=now - timedelta(hours=3))
    source = make_source(api, search_keywords=["acme blender", "Acme Pro"])

    pages, result, failure = run(source, make_request(now, account="r/acme"))

    assert failure is None
    assert listing_ids(pages, "search") == [match["name"]]
    assert other_sub["name"] not in listing_ids(pages, "search")
    sent = api.requests_to("search")
    assert sent[0].path.rstrip("/") == "/r/acme/search"
    assert sent[0].params["q"] == '"acme blender" OR "Acme Pro"'
    assert sent[0].params["sort"] == "new" and sent[0].params["restrict_sr"] == "True"
    assert thread_ids(pages) == {match["name"], reply["name"]}
    assert not api.requests_to("mentions") and not api.requests_to("comments")
    assert result.watermarks == {"search": str(int(match["created_utc"]))}


def test_another_accounts_inbox_is_not_read_and_the_gap_is_recorded(api, now):
    seeded = seed_support(api, now, customers=2)
    brand = api.account("AcmeBrand", password="brand-pw")
    api.comment(brand, "We can help too", parent=seeded["posts"][0], at=now - timedelta(hours=1))

    pages, result, failure = run(make_source(api), make_request(now, account="u/AcmeBrand"))

    assert failure is None
    inbox = ("mentions", "inbox_replies", "post_replies")
    assert not [r for r in api.requests if r.endpoint in inbox]
    assert [r.path for r in api.requests_to("comments")] == ["/user/AcmeBrand/comments"]
    skipped = [c.split(":")[0] for c in result.ceilings if "not read" in c]
    assert skipped == ["mentions", "inbox_replies", "post_replies"]
    assert all("log in as u/AcmeSupport, not u/AcmeBrand" in c for c in result.ceilings)


# ---------------------------------------------------------------- comment trees


def test_more_comments_are_expanded_within_the_replace_more_bound(now):
    with FakeRedditApi(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, tree_children=2, tree_depth=3
    ) as api:
        acme = api.account("AcmeSupport", password=PASSWORD)
        alice = api.user("alice")
        post = api.submission(alice, "Help", at=now - timedelta(hours=10))
        top = [
            api.comment(
                api.user(f"c{n}"),
                f"me too {n}",
                parent=post,
                at=now - timedelta(hours=9, minutes=-n),
            )
            for n in range(7)
        ]
        # a chain deeper than tree_depth: "continue this thread"
        chain = [api.comment(acme, "u/alice on it", parent=top[0], at=now - timedelta(hours=8))]
        for n in range(4):
            author = alice if n % 2 == 0 else acme
            chain.append(
                api.comment(author, f"step {n}", parent=chain[-1], at=now - timedelta(hours=7 - n))
            )
        everything = {post["name"], *(c["name"] for c in top + chain)}

        bounded_pages, bounded, failure = run(
            make_source(api, replace_more_limit=1), make_request(now)
        )
        assert failure is None
        expansions = api.requests_to("morechildren") + api.requests_to("thread")[1:]
        assert len(expansions) == 1  # the bound: one "more" request for this thread
        assert thread_ids(bounded_pages) < everything
        ceiling = next(c for c in bounded.ceilings if c.startswith("threads:"))
        assert "replace_more limit 1" in ceiling and post["id"] in ceiling

        seen_before = len(api.requests)
        pages, result, failure = run(make_source(api, replace_more_limit=32), make_request(now))
        assert failure is None
        later = api.requests[seen_before:]
        assert any(r.endpoint == "morechildren" for r in later)
        assert any(r.endpoint == "thread" and "/_/" in r.path for r in later)  # continued
        assert thread_ids(pages) == everything
        assert not any(c.startswith("threads:") for c in result.ceilings)
        api.assert_served()


def test_unexpanded_stubs_count_at_least_the_comments_they_hide(now):
    """A "load more comments" stub says how many it hides (its count, its children); a
    "continue this thread" stub says count 0 and lists no children, yet hides at least one."""
    with FakeRedditApi(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, tree_children=2, tree_depth=3
    ) as api:
        acme = api.account("AcmeSupport", password=PASSWORD)
        alice = api.user("alice")
        post = api.submission(alice, "Help", at=now - timedelta(hours=10))
        top = [
            api.comment(api.user(f"c{n}"), f"me too {n}", parent=post, at=now - timedelta(hours=9))
            for n in range(7)
        ]  # 2 shown, 5 behind one "load more comments" stub (count 5)
        chain = [api.comment(acme, "u/alice on it", parent=top[0], at=now - timedelta(hours=8))]
        for n in range(4):  # depth 3 and below: behind one "continue this thread" stub
            chain.append(api.comment(alice, f"step {n}", parent=chain[-1], at=now))

        pages, result, failure = run(make_source(api, replace_more_limit=0), make_request(now))

    assert failure is None
    [ceiling] = [c for c in result.ceilings if c.startswith("threads:")]
    assert ceiling == (
        f"threads: replace_more limit 0 reached in 1 submission(s) ({post['id']}); "
        "2 'more comments' stub(s) for at least 6 comment(s) not expanded"
    )


def test_deleted_and_removed_comments_are_landed_as_received(api, now):
    seeded = seed_support(api, now, customers=1)
    post = seeded["posts"][0]
    gone = api.comment(
        api.user("regretful"), "u/AcmeSupport rant", parent=post, at=now - timedelta(hours=4)
    )
    modded = api.comment(api.user("spammer"), "buy now", parent=post, at=now - timedelta(hours=3))
    api.delete(gone)
    api.remove(modded)

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert {gone["name"], modded["name"]} <= thread_ids(pages)
    bodies = b"".join(p.body for p in pages if p.endpoint == "threads")
    assert b'"body":"[deleted]"' in bodies and b'"body":"[removed]"' in bodies
    assert gone["name"] in listing_ids(pages, "mentions")  # the inbox still lists it


# ---------------------------------------------------------------- rate limits and outages


def test_429_mid_pagination_is_waited_out_and_loses_or_repeats_nothing(api, now, caplog):
    seeded = seed_support(api, now, customers=250)
    api.fail_next(RateLimited(reset_in=30), endpoint="mentions", skip=1)
    caplog.set_level(logging.WARNING, logger="ingest.reddit")

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert Counter(listing_ids(pages, "mentions")) == Counter(m["name"] for m in seeded["mentions"])
    sent = api.requests_to("mentions")
    assert [r.status for r in sent] == [200, 429, 200, 200]
    assert sent[1].params == sent[2].params  # the same page asked again
    assert result.endpoints["mentions"].rate_limited == 1
    waits = [r.getMessage() for r in caplog.records if "429" in r.getMessage()]
    assert len(waits) == 1
    assert "x-ratelimit-reset 30" in waits[0]
    assert "in 0.05 s" in waits[0]  # the reset was 30 s away; the cap was 0.05 s


def test_429_without_reset_header_backs_off(api, now, caplog):
    seed_support(api, now, customers=3)
    api.fail_next(RateLimited(reset_in=None), endpoint="comments", times=2)
    caplog.set_level(logging.WARNING, logger="ingest.reddit")

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert [r.status for r in api.requests_to("comments")] == [429, 429, 200]
    waits = [r.getMessage() for r in caplog.records if "429" in r.getMessage()]
    assert len(waits) == 2 and all("backing off" in message for message in waits)
    # a kept-alive connection closed under the client is retried without reaching the server
    connection_retries = sum(
        "; retry " in r.getMessage() and "429" not in r.getMessage() for r in caplog.records
    )
    assert result.requests == len(api.requests) + connection_retries


def test_429_that_never_ends_fails_this_account_clearly(api, now):
    seed_support(api, now, customers=3)
    api.fail_next(RateLimited(reset_in=0), endpoint="comments", times=100)

    pages, result, failure = run(make_source(api, max_retries=2), make_request(now))

    assert isinstance(failure, RedditRateLimitError)
    assert failure.endpoint == "comments" and failure.status == 429
    message = str(failure)
    assert "Reddit comments" in message and "u/AcmeSupport" in message
    assert "429" in message and "3 attempts" in message
    assert len(api.requests_to("comments")) == 3
    assert {p.endpoint for p in pages} == {"mentions", "inbox_replies", "post_replies"}
    assert "comments" not in result.watermarks  # nothing finished there
    assert "mentions" in result.watermarks


def test_an_exhausted_quota_is_waited_for_before_the_next_request(api, now):
    seed_support(api, now, customers=150)
    api.fail_next(QuotaExhausted(reset_in=1), endpoint="mentions")

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    first, second = api.requests_to("mentions")[:2]
    # prawcore's rate limiter read X-Ratelimit-Remaining 0 and X-Ratelimit-Reset 1
    assert second.at - first.at >= 0.9


def test_5xx_then_success_and_5xx_that_persists(api, now):
    seed_support(api, now, customers=3)
    api.fail_next(HttpError(503), endpoint="submissions")
    pages, result, failure = run(make_source(api), make_request(now))
    assert failure is None
    assert [r.status for r in api.requests_to("submissions")] == [503, 200]

    api.fail_next(HttpError(500), endpoint="thread", times=100)
    pages, result, failure = run(make_source(api, max_retries=1), make_request(now))
    assert isinstance(failure, RedditUnavailableError)
    assert failure.endpoint == "threads" and failure.status == 500
    assert "HTTP 500 after 2 attempts" in str(failure)


def test_the_message_after_every_retry_names_the_request_once(api, now):
    seed_support(api, now, customers=1)
    api.fail_next(HttpError(503), endpoint="comments", times=100)

    pages, result, failure = run(make_source(api, max_retries=2), make_request(now))

    assert isinstance(failure, RedditUnavailableError)
    assert str(failure) == (
        "Reddit comments (GET /user/AcmeSupport/comments) for u/AcmeSupport: "
        "HTTP 503 after 3 attempts"
    )


def test_a_timeout_is_retried(api, now):
    seed_support(api, now, customers=3)
    api.fail_next(Slow(1.0), endpoint="comments")

    pages, result, failure = run(make_source(api, request_timeout_seconds=0.3), make_request(now))

    assert failure is None
    assert len(listing_ids(pages, "comments")) == 3


def test_a_truncated_page_is_yielded_then_the_account_stops(api, now):
    seed_support(api, now, customers=3)
    api.fail_next(Truncated(0.5), endpoint="comments")

    pages, result, failure = run(make_source(api), make_request(now))

    assert isinstance(failure, RedditMalformedPageError)
    assert failure.endpoint == "comments"
    assert pages[-1].endpoint == "comments" and pages[-1].body == failure.body
    with pytest.raises(ValueError):
        json.loads(pages[-1].body)
    assert not api.requests_to("submissions") and not api.requests_to("thread")


def test_a_missing_user_fails_clearly(api, now):
    seed_support(api, now, customers=1)
    api.account("Ghost", password="x")
    pages, result, failure = run(
        make_source(api, credentials("Ghost", "x")), make_request(now, account="NoSuchUser")
    )
    assert isinstance(failure, RedditRequestError)
    assert failure.status == 404 and "no such user" in str(failure)
    run(make_source(api), make_request(now))  # and the fixture still sees things served


# ---------------------------------------------------------------- credentials


def test_a_wrong_client_secret_fails_naming_the_setting_not_the_value(now, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeRedditApi(client_id=CLIENT_ID, client_secret="the-right-one") as api:
        api.account("AcmeSupport", password=PASSWORD)
        pages, result, failure = run(make_source(api), make_request(now))
        assert [r.endpoint for r in api.requests] == ["token"]  # no retries
    assert isinstance(failure, RedditAuthError) and pages == []
    assert "client id and secret were refused" in str(failure)
    said = _everything_said(failure, caplog)
    assert not [secret for secret in SECRETS if secret in said]


def test_a_refusal_says_where_the_app_set_the_credentials(now):
    where = {"client_id": "login", "client_secret": "password", "password": "extra.password"}
    creds = RedditCredentials(
        CLIENT_ID,
        CLIENT_SECRET,
        "AcmeSupport",
        PASSWORD,
        origin="Airflow Connection reddit_default",
        set_in=where | {"username": "extra.username"},
    )
    with FakeRedditApi(client_id=CLIENT_ID, client_secret="the-right-one") as api:
        api.account("AcmeSupport", password=PASSWORD)
        pages, result, failure = run(make_source(api, creds), make_request(now))

    assert isinstance(failure, RedditAuthError) and not failure.retryable
    assert str(failure).endswith(
        "check the app's client id and secret in Airflow Connection reddit_default "
        "(login, password; values redacted)"
    )


def test_a_wrong_password_fails_naming_the_login_not_the_password(api, now, caplog):
    caplog.set_level(logging.DEBUG)
    seed_support(api, now, customers=1)
    wrong = "wrong-password-do-not-leak-99"
    pages, result, failure = run(make_source(api, credentials(password=wrong)), make_request(now))
    assert isinstance(failure, RedditAuthError)
    assert "invalid_grant" in str(failure) and "u/AcmeSupport" in str(failure)
    said = _everything_said(failure, caplog)
    assert wrong not in said and not [secret for secret in SECRETS if secret in said]
    run(make_source(api), make_request(now))


def test_secrets_and_the_access_token_reach_no_log_message_or_page(api, now, caplog):
    caplog.set_level(logging.DEBUG)
    seed_support(api, now, customers=3)
    api.fail_next(RateLimited(reset_in=0), endpoint="mentions")
    source = make_source(api)

    pages, result, failure = run(source, make_request(now))

    assert failure is None
    said = _everything_said(None, caplog) + repr(source) + repr(credentials())
    bodies = b"".join(page.body for page in pages)
    for secret in (*SECRETS, *api.access_tokens):
        assert secret not in said
        assert secret.encode() not in bodies
    assert api.access_tokens  # there was a token to leak


# ---------------------------------------------------------------- ceilings


def test_the_listing_cap_is_recorded_as_a_ceiling(now):
    with FakeRedditApi(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, listing_cap=30) as api:
        acme = api.account("AcmeSupport", password=PASSWORD)
        post = api.submission(api.user("alice"), "Thread", at=now - timedelta(days=2))
        for n in range(45):
            api.comment(acme, f"answer {n}", parent=post, at=now - timedelta(hours=40 - n))

        pages, result, failure = run(
            make_source(api, listing_cap=30, replace_more_limit=0), make_request(now)
        )

        assert failure is None
        assert len(listing_ids(pages, "comments")) == 30
        ceiling = next(c for c in result.ceilings if c.startswith("comments:"))
        assert "end after 30 items" in ceiling and "30 returned" in ceiling
        api.assert_served()


def test_an_unreadable_thread_is_skipped_and_recorded(api, now):
    seeded = seed_support(api, now, customers=3)
    api.fail_next(HttpError(403), endpoint="thread")

    pages, result, failure = run(make_source(api), make_request(now))

    assert failure is None
    assert [r.status for r in api.requests_to("thread")] == [403, 200, 200, 200]
    refused = api.requests_to("thread")[0].path.strip("/").removeprefix("comments/")
    ceiling = next(c for c in result.ceilings if c.startswith("threads:"))
    assert ceiling == f"threads: 1 submission(s) could not be read (HTTP 403): {refused}"
    others = {p["name"] for p in seeded["posts"] + [seeded["own"]] if p["id"] != refused}
    assert others <= thread_ids(pages)
