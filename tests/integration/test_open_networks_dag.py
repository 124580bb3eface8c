"""The whole nightly DAG (dag.test) for an organisation on Bluesky and Mastodon, the live
sources against the local fakes, credentials from Airflow Connections given as environment
variables (AIRFLOW_CONN_<ID> in JSON form).

Bluesky: Care (acmehelp.bsky.social) logs in with bluesky_default's app password, so its
notifications are read; Marketing (acme.com) has none, so its mentions are searched.
Mastodon: Care (acmehelp@mastodon.social) has its token in its own Connection.
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

from tests.bluesky_shapes import Post
from tests.integration.fake_bluesky_api import FakeBlueskyApi
from tests.integration.fake_mastodon_api import FakeMastodonApi
from tests.integration.log_lines import LogLines
from tests.mastodon_shapes import Toot

REPO = Path(__file__).resolve().parents[2]
CARE, MARKETING = "acmehelp.bsky.social", "acme.com"
APP_PASSWORD = "dag-bsky-pass-do-not-leak-7781"
MASTODON_CARE = "acmehelp@mastodon.social"
MASTODON_TOKEN = "dag-mastodon-token-do-not-leak-5521"
ENVIRONMENT = (
    "SILOSCOPE_CONFIG",
    "SILOSCOPE_DB",
    "SILOSCOPE_LANDING",
    "AIRFLOW_CONN_BLUESKY_DEFAULT",
    "AIRFLOW_CONN_MASTODON_DEFAULT",
    "AIRFLOW_CONN_MASTODON_ACMEHELP_MASTODON.SOCIAL",
)


def seed(night: datetime) -> list[Post]:
    """alice asks Care, Care answers and refers her to Marketing, Marketing follows up;
    bob praises Marketing, Marketing thanks him."""
    at = night - timedelta(hours=40)
    q1 = Post("3da1", "alice.bsky.social", f"@{CARE} router dead", at, None, [CARE])
    a1 = Post(
        "3da2",
        CARE,
        f"restart it; @{MARKETING} has a coupon",
        at + timedelta(hours=1),
        q1,
        [MARKETING],
    )
    m1 = Post("3da3", MARKETING, "here it is", at + timedelta(hours=2), a1)
    q2 = Post(
        "3db1",
        "bob.bsky.social",
        f"@{MARKETING} love the ad",
        at + timedelta(hours=3),
        None,
        [MARKETING],
    )
    m2 = Post("3db2", MARKETING, "thank you!", at + timedelta(hours=4), q2)
    return [q1, a1, m1, q2, m2]


def seed_mastodon(night: datetime) -> list[Toot]:
    """carol (another instance) asks Care, Care answers."""
    at = night - timedelta(hours=30)
    question = Toot("mq", "carol@fosstodon.org", f"@{MASTODON_CARE} hi", at, None, [MASTODON_CARE])
    answer = Toot(
        "ma", MASTODON_CARE, "@carol@fosstodon.org hello", at + timedelta(hours=1), question
    )
    return [question, answer]


@pytest.fixture(scope="module")
def one_night(tmp_path_factory, airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    root = tmp_path_factory.mktemp("bluesky")
    night = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    with (
        FakeBlueskyApi(seed(night), {CARE: APP_PASSWORD, MARKETING: "not-given-here"}) as api,
        FakeMastodonApi(
            "mastodon.social", seed_mastodon(night), {MASTODON_TOKEN: MASTODON_CARE}
        ) as mastodon,
    ):
        config = {
            "organization": "Acme",
            "departments": [
                {
                    "name": "Care",
                    "accounts": {"bluesky": [CARE], "mastodon": [f"@{MASTODON_CARE}"]},
                },
                {"name": "Marketing", "accounts": {"bluesky": [MARKETING]}},
            ],
            "sources": {"bluesky": "api", "mastodon": "api"},
            "thresholds": {"min_conversations": 1},
        }
        (root / "org.yaml").write_text(yaml.safe_dump(config))
        connection = {
            "conn_type": "generic",
            "login": CARE,
            "password": APP_PASSWORD,
            "host": api.base_url,
        }
        os.environ.update(
            {
                "SILOSCOPE_CONFIG": str(root / "org.yaml"),
                "SILOSCOPE_DB": str(root / "siloscope.duckdb"),
                "SILOSCOPE_LANDING": str(root / "landing"),
                "AIRFLOW_CONN_BLUESKY_DEFAULT": json.dumps(connection),
                "AIRFLOW_CONN_MASTODON_DEFAULT": json.dumps(
                    {"conn_type": "generic", "host": mastodon.base_url}
                ),
                "AIRFLOW_CONN_MASTODON_ACMEHELP_MASTODON.SOCIAL": json.dumps(
                    {"conn_type": "generic", "password": MASTODON_TOKEN}
                ),
            }
        )
        said = LogLines()
        logging.getLogger().addHandler(said)
        try:
            nightly = DagBag(dag_folder=str(REPO / "dags")).dags["siloscope_nightly"]
            run = nightly.test(logical_date=night)
            yield {
                "root": root,
                "state": run.state,
                "said": said.lines,
                "api": api,
                "mastodon": mastodon,
            }
        finally:
            logging.getLogger().removeHandler(said)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "siloscope.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_dag_maps_one_extract_per_bluesky_account_and_builds_the_marts(one_night):
    assert one_night["state"] == "success"
    api = one_night["api"]
    assert api.served > 0
    assert api.answered["com.atproto.server.createSession"] >= 1
    assert api.answered["app.bsky.notification.listNotifications"] >= 1  # Care's own
    assert api.answered["app.bsky.feed.searchPosts"] >= 1  # Marketing's, no password
    root = one_night["root"]
    assert query(
        root, "select account, complete from ops.extract_runs where platform = 'bluesky' order by 1"
    ) == [(MARKETING, True), (CARE, True)]
    assert query(root, "select count(*), count(distinct uri) from raw.bluesky_posts") == [(5, 5)]
    scorecard = query(
        root,
        "select department, conversations, customers from marts.department_scorecard order by 1",
    )
    assert scorecard == [("Care", 2, 2), ("Marketing", 2, 2)]  # Care's Mastodon conversation too
    pairs = query(root, "select referrals_a_to_b from marts.department_pairs")
    assert pairs == [(1,)]  # Care referred to Marketing, read from the facet
    assert query(root, "select count(*) from ops.reconciliations where problem is not null") == [
        (0,)
    ]


def test_the_dag_maps_the_mastodon_account_with_its_own_token(one_night):
    mastodon = one_night["mastodon"]
    assert mastodon.answered["notifications"] >= 1 and mastodon.answered["statuses/context"] >= 1
    root = one_night["root"]
    assert query(
        root, "select account, complete from ops.extract_runs where platform = 'mastodon'"
    ) == [(MASTODON_CARE, True)]
    assert query(
        root,
        "select author_kind, count(*) from intermediate.int_messages "
        "where platform = 'mastodon' group by 1 order by 1",
    ) == [("customer", 1), ("org", 1)]


def test_the_secrets_are_never_logged_landed_or_stored(one_night):
    for secret in (APP_PASSWORD, MASTODON_TOKEN):
        assert not any(secret in line for line in one_night["said"])
        for path in (one_night["root"] / "landing").rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes()
        assert secret.encode() not in (one_night["root"] / "siloscope.duckdb").read_bytes()
