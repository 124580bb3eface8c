"""X end to end without Airflow: `siloscope run --source x` drives the real tweepy client
against the local fake X API, lands the pages and loads and builds DuckDB.

One fake server serves the whole module; every test seeds its own accounts (unique
usernames), so tests share the server without seeing each other's posts.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest

from siloscope.cli import main as siloscope
from tests.integration.fake_x_api import (
    FakeXApi,
    HttpError,
    PartialErrors,
    RateLimited,
    Truncated,
    withheld_problem,
)
from tests.integration.x_scenarios import (
    everything_landed,
    everything_stored,
    query,
    seed_conversations,
    unique_name,
    write_config,
)

TOKEN = "x-live-bearer-7f3a91c2-never-store-me"
# Nights in the past, so the recent-search window covers their posts: "today" is the
# night after LAST_NIGHT.
TODAY = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
LAST_NIGHT = TODAY - timedelta(days=1)


@pytest.fixture(scope="module")
def x_api():
    with FakeXApi(token=TOKEN) as api:
        yield api


@pytest.fixture
def fake(x_api, monkeypatch):
    """The shared server, reached the way the command line reaches X: the environment."""
    monkeypatch.setenv("SILOSCOPE_X_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("SILOSCOPE_X_BASE_URL", x_api.base_url)
    # bounded and quick: 3 attempts per request, backoff from 10 ms
    monkeypatch.setenv("SILOSCOPE_X_MAX_RETRIES", "2")
    monkeypatch.setenv("SILOSCOPE_X_BACKOFF_SECONDS", "0.01")
    served_before = x_api.posts_served
    yield x_api
    assert x_api.posts_served > served_before, "the fake X API served this test no posts"
    assert x_api.pending_faults == [], "a scripted fault was never answered"


class Org:
    """A config, DuckDB file and landing zone in tmp_path, and the command to run them."""

    def __init__(self, tmp_path: Path, departments: dict[str, list[str]]):
        self.config = write_config(tmp_path / "org.yaml", departments)
        self.db = tmp_path / "siloscope.duckdb"
        self.landing = tmp_path / "landing"

    def run(self, night: datetime = LAST_NIGHT) -> int:
        return siloscope(
            [
                "run",
                *("--config", str(self.config), "--db", str(self.db)),
                *("--landing", str(self.landing), "--source", "x"),
                *("--date", night.date().isoformat()),
            ]
        )

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        return query(self.db, sql, parameters)

    def post_ids(self) -> list[str]:
        return [post_id for (post_id,) in self.query("select id from raw.x_posts")]

    def endpoints(self, account: str, night: datetime = LAST_NIGHT) -> dict[str, dict]:
        """ops.extract_endpoints of one account's run for `night`, by endpoint."""
        with duckdb.connect(str(self.db), read_only=True) as con:
            cursor = con.execute(
                "select * exclude (manifest, platform, account, run_id, until, loaded_at) "
                "from ops.extract_endpoints where account = ? and until = ?",
                [account, night],
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return {row.pop("endpoint"): row for row in rows}


def requests_for(api: FakeXApi, endpoint: str, user: dict, since: int = 0):
    return [
        r
        for r in api.requests[since:]
        if r.endpoint == endpoint and r.path.split("/")[3] == user["id"]
    ]


def new_account(api: FakeXApi, stem: str) -> dict:
    return api.user(unique_name(stem))


# ---------------------------------------------------------------- pagination, the ops record


def test_three_pages_of_mentions_load_every_post_once_and_the_run_is_recorded(fake, tmp_path):
    care = new_account(fake, "care")
    seeded = seed_conversations(fake, care, 250, start=LAST_NIGHT - timedelta(days=2))
    org = Org(tmp_path, {"Customer Care": [care["username"]]})
    seen = len(fake.requests)
    billed_before = fake.billed_reads

    assert org.run() == 0

    ids = org.post_ids()
    assert len(ids) == len(set(ids))
    assert set(ids) == seeded.post_ids
    mention_pages = org.query(
        "select count(*), sum(records_loaded), sum(records_duplicate) from ops.loaded_files "
        "where account = ? and endpoint = 'mentions'",
        [care["username"]],
    )
    assert mention_pages == [(3, 250, 0)]
    assert [r.status for r in requests_for(fake, "mentions", care)] == [200, 200, 200]

    endpoints = org.endpoints(care["username"])
    assert set(endpoints) == {"user lookup", "mentions", "tweets", "threads", "authors"}
    mentions = endpoints["mentions"]
    assert (mentions["requests"], mentions["pages"], mentions["posts"]) == (3, 3, 250)
    assert mentions["since_id"] is None  # a backfill
    assert mentions["watermark"] == max((r["id"] for r in seeded.roots), key=int)
    assert endpoints["tweets"]["posts"] == 250
    assert endpoints["tweets"]["included_posts"] == 250  # the root each reply answers
    # X bills every post and user a response returns, once a day: the run's ledger is what
    # the API bills, each stored post and user once (threads returned nothing unread)
    for counts in endpoints.values():
        assert counts["billable_reads"] <= (
            counts["posts"] + counts["included_posts"] + counts["users"]
        )
    ledger = sum(counts["billable_reads"] for counts in endpoints.values())
    assert ledger == fake.billed_reads - billed_before
    [(posts, users)] = org.query(
        "select (select count(*) from raw.x_posts), (select count(*) from raw.x_users)"
    )
    assert ledger == posts + users
    assert endpoints["threads"]["billable_reads"] == 0
    (requests, pages, ceilings, complete) = org.query(
        "select requests, pages, ceilings, complete from ops.extract_runs where account = ?",
        [care["username"]],
    )[0]
    assert complete
    assert requests == sum(c["requests"] for c in endpoints.values()) == len(fake.requests) - seen
    assert pages == sum(c["pages"] for c in endpoints.values())
    # the first night backfills 28 days; recent search reaches back 7: recorded, not hidden
    assert [c for c in endpoints["threads"]["ceilings"] if "recent search covers 7 days" in c]
    assert ceilings == endpoints["threads"]["ceilings"]

    conversations = org.query(
        "select count(*), count(*) filter (first_department = 'Customer Care') "
        "from marts.conversations"
    )
    assert conversations == [(250, 250)]


def test_running_the_same_night_again_loads_nothing_twice(fake, tmp_path):
    care = new_account(fake, "care")
    seeded = seed_conversations(fake, care, 120, start=LAST_NIGHT - timedelta(days=2))
    org = Org(tmp_path, {"Customer Care": [care["username"]]})
    assert org.run() == 0
    counts = "select (select count(*) from raw.x_posts), (select count(*) from raw.x_users)"
    first = org.query(counts)

    assert org.run() == 0

    assert org.query(counts) == first
    assert sorted(org.post_ids()) == sorted(seeded.post_ids)
    # the second run of the night is on record beside the first, and its books balance
    assert org.query("select count(*) from ops.extract_runs") == [(2,)]
    assert org.query("select count(*) from ops.extract_endpoints") == [(10,)]
    assert org.query("select count(*), bool_and(balanced) from ops.reconciliations") == [(2, True)]


# ---------------------------------------------------------------- incremental nights


def test_the_next_night_sends_since_id_and_loads_only_the_new_posts(fake, tmp_path):
    care = new_account(fake, "care")
    night_one = LAST_NIGHT - timedelta(days=1)
    first = seed_conversations(fake, care, 150, start=night_one - timedelta(days=2))
    org = Org(tmp_path, {"Customer Care": [care["username"]]})
    assert org.run(night_one) == 0
    marks = dict(
        org.query(
            "select endpoint, since_id from ops.watermarks where account = ?", [care["username"]]
        )
    )
    assert marks["mentions"] == max((r["id"] for r in first.roots), key=int)
    seen = len(fake.requests)

    later = seed_conversations(fake, care, 4, start=night_one + timedelta(hours=2))
    assert org.run(LAST_NIGHT) == 0

    # the server was asked only for what is newer than the first night's watermarks
    for endpoint in ("mentions", "tweets"):
        sent = requests_for(fake, endpoint, care, since=seen)
        assert [r.params.get("since_id") for r in sent] == [marks[endpoint]]
        assert "start_time" not in sent[0].params
    assert set(org.post_ids()) == first.post_ids | later.post_ids
    assert len(org.post_ids()) == len(first.post_ids) + 8
    loaded = dict(
        org.query(
            "select endpoint, sum(records_loaded) from ops.loaded_files "
            "where account = ? and landing_file like ? group by endpoint",
            [care["username"], f"%/dt={LAST_NIGHT.date()}/%"],
        )
    )
    assert loaded["mentions"] == 4 and loaded["tweets"] == 4
    endpoints = org.endpoints(care["username"])
    assert endpoints["mentions"]["since_id"] == marks["mentions"]
    assert endpoints["mentions"]["posts"] == 4
    assert endpoints["mentions"]["watermark"] == max((r["id"] for r in later.roots), key=int)


# ---------------------------------------------------------------- rate limits and outages


@pytest.mark.parametrize(
    "fault",
    [RateLimited(reset_in=0), RateLimited(reset_in=None)],
    ids=["with-reset-header", "without-reset-header"],
)
def test_a_429_mid_pagination_loses_no_page_and_loads_none_twice(fake, tmp_path, fault):
    care = new_account(fake, "care")
    seeded = seed_conversations(fake, care, 250, start=LAST_NIGHT - timedelta(days=2))
    fake.fail_next(fault, endpoint="mentions", account=care["username"], skip=1)
    org = Org(tmp_path, {"Customer Care": [care["username"]]})

    assert org.run() == 0

    sent = requests_for(fake, "mentions", care)
    assert [r.status for r in sent] == [200, 429, 200, 200]
    assert sent[1].params == sent[2].params  # the refused page was asked for again
    assert sorted(org.post_ids()) == sorted(seeded.post_ids)
    assert org.query(
        "select count(*), count(distinct sha256), sum(records_loaded), sum(records_duplicate) "
        "from ops.loaded_files where account = ? and endpoint = 'mentions'",
        [care["username"]],
    ) == [(3, 3, 250, 0)]
    mentions = org.endpoints(care["username"])["mentions"]
    assert (mentions["requests"], mentions["pages"], mentions["rate_limited"]) == (4, 3, 1)


def test_a_500_then_success_loads_everything(fake, tmp_path):
    care = new_account(fake, "care")
    seeded = seed_conversations(fake, care, 30, start=LAST_NIGHT - timedelta(days=2))
    fake.fail_next(HttpError(500), endpoint="tweets", account=care["username"])
    org = Org(tmp_path, {"Customer Care": [care["username"]]})

    assert org.run() == 0

    assert [r.status for r in requests_for(fake, "tweets", care)] == [500, 200]
    assert sorted(org.post_ids()) == sorted(seeded.post_ids)
    assert org.endpoints(care["username"])["tweets"]["requests"] == 2
    assert org.query("select complete from ops.extract_runs") == [(True,)]


# ---------------------------------------------------------------- one account fails


FAILURES = {
    # 3 attempts: SILOSCOPE_X_MAX_RETRIES is 2
    "429s-without-reset": (RateLimited(reset_in=None), {"times": 3}, "XRateLimitError"),
    "persistent-503": (HttpError(503, "Service Unavailable"), {"times": 3}, "XUnavailableError"),
    "truncated-json": (Truncated(keep=0.4), {"skip": 1}, "XMalformedPageError"),
    "401": (HttpError(401, "Unauthorized"), {}, "XAuthError"),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_one_failing_account_fails_while_the_other_is_loaded_and_built(
    fake, tmp_path, capsys, failure
):
    fault, timing, error_type = failure
    broken = new_account(fake, "brand")
    healthy = new_account(fake, "care")
    start = LAST_NIGHT - timedelta(days=2)
    brand_posts = seed_conversations(fake, broken, 250, start=start)
    care_posts = seed_conversations(fake, healthy, 20, start=start)
    fake.fail_next(fault, endpoint="mentions", account=broken["username"], **timing)
    # the failing account is extracted first: the other must not be held back
    org = Org(tmp_path, {"Marketing": [broken["username"]], "Customer Care": [healthy["username"]]})

    assert org.run() == 1

    printed = capsys.readouterr()
    error = printed.err
    # what the healthy account brought was built, and the command says what it shows
    assert printed.out.startswith("verdict: ")
    assert f"x/{broken['username']}" in error and "extract failed" in error
    assert f"x/{healthy['username']}" not in error
    runs = dict(
        org.query("select account, (complete, error) from ops.extract_runs order by account")
    )
    assert runs[healthy["username"]] == (True, None)
    complete, message = runs[broken["username"]]
    assert not complete and message.startswith(error_type) and "X mentions" in message
    # the healthy account is loaded and built; the broken one moved no watermark
    assert care_posts.post_ids <= set(org.post_ids())
    assert org.query(
        "select count(*) from marts.conversations where first_department = 'Customer Care'"
    ) == [(20,)]
    assert org.query(
        "select count(*) from ops.watermarks where account = ?", [broken["username"]]
    ) == [(0,)]

    rejects = org.query("select r.landing_file, r.reason, r.record, r.account from ops.rejects r")
    if isinstance(fault, Truncated):
        # page 1 loaded, page 2 landed as received and kept with the parser's reason
        first_page = {r["id"] for r in brand_posts.roots[-100:]}
        assert first_page <= set(org.post_ids())
        [(landing_file, reason, record, account)] = rejects
        assert account == broken["username"] and landing_file.endswith("page-00002.json")
        assert "JSON" in reason or "json" in reason
        assert record.encode() == Path(landing_file).read_bytes()
        with pytest.raises(ValueError):
            json.loads(record)
        mentions = org.endpoints(broken["username"])["mentions"]
        assert (mentions["pages"], mentions["posts"], mentions["watermark"]) == (2, 100, None)
    else:
        assert rejects == []
        assert not set(org.post_ids()) & {r["id"] for r in brand_posts.roots}


# ---------------------------------------------------------------- partial errors


def test_a_200_with_an_errors_array_loses_nothing(fake, tmp_path):
    care = new_account(fake, "care")
    seeded = seed_conversations(fake, care, 30, start=LAST_NIGHT - timedelta(days=2))
    deleted = seeded.roots[5]
    fake.delete_posts([deleted["id"]])  # the reply to it now meets a not-found problem
    fake.fail_next(
        PartialErrors((withheld_problem("1212121212"),)),
        endpoint="mentions",
        account=care["username"],
    )
    org = Org(tmp_path, {"Customer Care": [care["username"]]})

    assert org.run() == 0

    assert set(org.post_ids()) == seeded.post_ids - {deleted["id"]}
    assert org.query("select count(*) from ops.rejects") == [(0,)]
    endpoints = org.endpoints(care["username"])
    assert endpoints["mentions"]["api_errors"] == 1
    assert endpoints["tweets"]["api_errors"] >= 1
    # the problems stay in the landed pages, as received
    landed = [
        json.loads(Path(f).read_bytes())
        for (f,) in org.query("select landing_file from ops.loaded_files where endpoint = 'tweets'")
    ]
    problems = [error["resource_id"] for page in landed for error in page.get("errors", [])]
    assert deleted["id"] in problems


# ---------------------------------------------------------------- the token


def test_the_token_reaches_no_log_landing_file_or_table(fake, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # tweepy logs every request's headers at DEBUG
    care = new_account(fake, "care")
    brand = new_account(fake, "brand")
    seed_conversations(fake, care, 12, start=LAST_NIGHT - timedelta(days=2))
    seed_conversations(fake, brand, 3, start=LAST_NIGHT - timedelta(days=2))
    fake.fail_next(HttpError(403, "Forbidden"), endpoint="tweets", account=brand["username"])
    org = Org(tmp_path, {"Customer Care": [care["username"]], "Marketing": [brand["username"]]})

    assert org.run() == 1  # brand's extract fails: its error message is stored and printed

    printed = capsys.readouterr()
    logged = caplog.text
    assert "Bearer ***" in logged  # the request log was there, redacted
    assert "X bearer token" in printed.err
    assert TOKEN not in logged + printed.out + printed.err
    assert TOKEN.encode() not in everything_landed(org.landing)
    stored = everything_stored(org.db)
    assert "X bearer token" in stored and TOKEN not in stored
    assert TOKEN.encode() not in org.db.read_bytes()
