"""The whole nightly DAG (dag.test) for an organisation on both X and Reddit, live sources
against the two local fakes, credentials from Airflow Connections given as environment
variables (AIRFLOW_CONN_<ID> in JSON form, which Airflow 3 reads directly).

Two nights in one module-scoped fixture: the first run of dag.test in a process is slow.
Every expected count is worked out by hand from the seeding below.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.integration.fake_reddit_api import FakeRedditApi
from tests.integration.fake_x_api import FakeXApi
from tests.integration.log_lines import LogLines

REPO = Path(__file__).resolve().parents[2]
X_TOKEN = "dag-x-bearer-do-not-leak-6614"
CLIENT_ID = "dag-reddit-client-id-J7"
CLIENT_SECRET = "dag-reddit-secret-do-not-leak-2285"
SUPPORT_PASSWORD = "dag-support-password-do-not-leak"
BRAND_PASSWORD = "dag-brand-password-do-not-leak"
ENVIRONMENT = (
    "SILOSCOPE_CONFIG",
    "SILOSCOPE_DB",
    "SILOSCOPE_LANDING",
    "AIRFLOW_CONN_X_DEFAULT",
    "AIRFLOW_CONN_REDDIT_DEFAULT",
    "AIRFLOW_CONN_REDDIT_ACMEBRAND",
)


def reddit_connection(api: FakeRedditApi, username: str, password: str) -> str:
    return json.dumps(
        {
            "conn_type": "generic",
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "host": api.base_url,
            "extra": {"username": username, "password": password},
        }
    )


def seed_first_night(x: FakeXApi, reddit: FakeRedditApi, night: datetime) -> dict:
    """X: alice (Care), bob (Care, then Marketing), carol (Marketing).
    Reddit: alice (Care), dave (Care, then Marketing), erin (Care, a keyword match).
    alice is on both platforms: two customers."""
    at = night - timedelta(hours=40)
    care_x, marketing_x = x.user("AcmeHelp"), x.user("Acme")
    alice_x, bob_x, carol_x = x.user("alice"), x.user("bob"), x.user("carol")
    x1 = x.post(alice_x, "@AcmeHelp my router is dead", at=at)
    x.post(care_x, "@alice restart it", at=at + timedelta(hours=1), reply_to=x1)
    x2 = x.post(bob_x, "@AcmeHelp double billing", at=at + timedelta(hours=2))
    x2a = x.post(care_x, "@bob refunded", at=at + timedelta(hours=3), reply_to=x2)
    x.post(marketing_x, "@bob and a coupon", at=at + timedelta(hours=4), reply_to=x2a)
    x3 = x.post(carol_x, "@Acme love the new ad", at=at + timedelta(hours=5))
    x.post(marketing_x, "@carol thank you", at=at + timedelta(hours=6), reply_to=x3)

    support = reddit.account("AcmeSupport", password=SUPPORT_PASSWORD)
    brand = reddit.account("AcmeBrand", password=BRAND_PASSWORD)
    alice_r, dave, erin = reddit.user("alice"), reddit.user("dave"), reddit.user("erin")
    r1 = reddit.submission(alice_r, "Router dead", at=at)
    r1a = reddit.comment(alice_r, "u/AcmeSupport any idea?", parent=r1, at=at + timedelta(hours=1))
    reddit.comment(support, "Restart it", parent=r1a, at=at + timedelta(hours=2))
    r2 = reddit.submission(dave, "Billing twice", at=at + timedelta(hours=3))
    r2a = reddit.comment(support, "Refunded", parent=r2, at=at + timedelta(hours=4))
    reddit.comment(brand, "And a coupon", parent=r2a, at=at + timedelta(hours=5))
    gone = reddit.comment(dave, "u/AcmeSupport rant", parent=r2, at=at + timedelta(hours=6))
    reddit.delete(gone)
    r3 = reddit.submission(erin, "Acme blender died", at=at + timedelta(hours=7))
    reddit.comment(support, "Sorry! DM us", parent=r3, at=at + timedelta(hours=8))
    return {"x": {"care": care_x, "marketing": marketing_x}, "reddit": {"brand": brand}}


def seed_second_night(x: FakeXApi, reddit: FakeRedditApi, seeded: dict, at: datetime) -> dict:
    gina = x.user("gina")
    x4 = x.post(gina, "@Acme is the sale on?", at=at)
    x.post(seeded["x"]["marketing"], "@gina yes!", at=at + timedelta(seconds=10), reply_to=x4)
    frank = reddit.user("frank")
    r4 = reddit.submission(frank, "Promo code?", at=at)
    r4a = reddit.comment(frank, "u/AcmeBrand got one?", parent=r4, at=at + timedelta(seconds=5))
    reddit.comment(seeded["reddit"]["brand"], "SAVE10", parent=r4a, at=at + timedelta(seconds=10))
    return {"r4": r4}


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory, airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    root = tmp_path_factory.mktemp("x-and-reddit")
    now = datetime.now(UTC).replace(microsecond=0)
    night = datetime.combine(now.date(), time(0), tzinfo=UTC)
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    with (
        FakeXApi(token=X_TOKEN) as x,
        FakeRedditApi(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, tree_children=2) as reddit,
    ):
        seeded = seed_first_night(x, reddit, night)
        config = {
            "organization": "Acme",
            "departments": [
                {"name": "Care", "accounts": {"x": ["AcmeHelp"], "reddit": ["AcmeSupport"]}},
                {"name": "Marketing", "accounts": {"x": ["Acme"], "reddit": ["AcmeBrand"]}},
            ],
            "sources": {"x": "api", "reddit": "api"},
            "reddit": {"subreddits": ["acme"], "keywords": ["acme blender"]},
            "thresholds": {"min_conversations": 1},
        }
        (root / "org.yaml").write_text(yaml.safe_dump(config))
        os.environ.update(
            {
                "SILOSCOPE_CONFIG": str(root / "org.yaml"),
                "SILOSCOPE_DB": str(root / "siloscope.duckdb"),
                "SILOSCOPE_LANDING": str(root / "landing"),
                "AIRFLOW_CONN_X_DEFAULT": json.dumps(
                    {"conn_type": "generic", "password": X_TOKEN, "host": x.base_url}
                ),
                "AIRFLOW_CONN_REDDIT_DEFAULT": reddit_connection(
                    reddit, "AcmeSupport", SUPPORT_PASSWORD
                ),
                "AIRFLOW_CONN_REDDIT_ACMEBRAND": reddit_connection(
                    reddit, "AcmeBrand", BRAND_PASSWORD
                ),
            }
        )
        said = LogLines()
        root_logger = logging.getLogger()
        root_logger.addHandler(said)
        try:
            nightly = DagBag(dag_folder=str(REPO / "dags")).dags["siloscope_nightly"]
            first = nightly.test(logical_date=night)
            first_counts = _counts(root)
            reddit_requests_before = len(reddit.requests)
            newer = seed_second_night(x, reddit, seeded, now - timedelta(seconds=30))
            second = nightly.test(logical_date=night + timedelta(days=1))
            yield {
                "root": root,
                "night": night,
                "states": (first.state, second.state),
                "first": first_counts,
                "second_night_reddit": reddit.requests[reddit_requests_before:],
                "r4": newer["r4"],
                "said": said.lines,
                "secrets": [
                    X_TOKEN,
                    CLIENT_ID,
                    CLIENT_SECRET,
                    SUPPORT_PASSWORD,
                    BRAND_PASSWORD,
                    *reddit.access_tokens,
                ],
            }
            x.assert_served()
            reddit.assert_served()
        finally:
            root_logger.removeHandler(said)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _counts(root: Path) -> dict:
    with duckdb.connect(str(root / "siloscope.duckdb"), read_only=True) as con:
        return {
            "scorecard": dict(
                (d, (c, k))
                for d, c, k in con.execute(
                    "select department, conversations, customers from marts.department_scorecard"
                ).fetchall()
            ),
            "platforms": dict(
                con.execute(
                    "select platform, count(*) from marts.conversations group by 1"
                ).fetchall()
            ),
        }


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "siloscope.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_both_nights_succeed(two_nights):
    assert two_nights["states"] == ("success", "success")


def test_the_marts_count_both_platforms(two_nights):
    first = two_nights["first"]
    assert first["platforms"] == {"x": 3, "reddit": 3}
    # Care: x1, x2 on X; r1, r2, r3 on Reddit. Marketing: x2, x3; r2.
    # Customers are per platform: alice on X and alice on Reddit are two.
    assert first["scorecard"] == {"Care": (5, 5), "Marketing": (3, 3)}


def test_every_account_and_the_search_ran_each_night(two_nights):
    runs = query(
        two_nights["root"],
        "select platform, account, count(*), bool_and(complete) from ops.extract_runs "
        "group by all order by 1, 2",
    )
    assert runs == [
        ("reddit", "AcmeBrand", 2, True),
        ("reddit", "AcmeSupport", 2, True),
        ("reddit", "r/acme", 2, True),
        ("x", "Acme", 2, True),
        ("x", "AcmeHelp", 2, True),
    ]
    assert query(two_nights["root"], "select count(*) from ops.rejects") == [(0,)]


def test_the_second_night_fetches_only_what_is_new(two_nights):
    root = two_nights["root"]
    threads = [
        r.path.strip("/") for r in two_nights["second_night_reddit"] if r.endpoint == "thread"
    ]
    assert threads == [f"comments/{two_nights['r4']['id']}"]
    after = [r for r in two_nights["second_night_reddit"] if "after" in r.params]
    assert after == []  # every listing stopped at its first page
    assert _counts(root)["platforms"] == {"x": 4, "reddit": 4}
    assert _counts(root)["scorecard"] == {"Care": (5, 5), "Marketing": (5, 5)}
    assert query(root, "select count(*) = count(distinct fullname) from raw.reddit_things") == [
        (True,)
    ]
    assert query(root, "select count(*) from marts.org_verdict") == [(2,)]


def test_no_secret_reaches_the_logs_the_landing_zone_or_duckdb(two_nights):
    root = two_nights["root"]
    said = "\n".join(two_nights["said"])
    assert "extracted {'platform': 'reddit'" in said  # the collector heard the runs
    landed = "".join(
        path.read_text(errors="replace") for path in (root / "landing").rglob("*") if path.is_file()
    )
    assert '"kind":"Listing"' in landed
    with duckdb.connect(str(root / "siloscope.duckdb"), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        stored = "\n".join(
            str(value)
            for schema, table, column in columns
            for (value,) in con.execute(f'select "{column}" from {schema}.{table}').fetchall()
        )
    db_bytes = (root / "siloscope.duckdb").read_bytes()
    assert len(two_nights["secrets"]) > 5  # access tokens were issued
    for secret in two_nights["secrets"]:
        assert secret not in said and secret not in landed and secret not in stored
        assert secret.encode() not in db_bytes
