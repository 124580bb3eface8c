"""`siloscope run --source reddit`: real praw against the fake, into real DuckDB and marts."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from siloscope.cli import main as siloscope
from tests.integration.fake_reddit_api import FakeRedditApi, RateLimited

CLIENT_ID = "cli-client-id-Kw2"
CLIENT_SECRET = "cli-client-secret-do-not-leak-5581"
SUPPORT_PASSWORD = "support-password-do-not-leak-1207"
BRAND_PASSWORD = "brand-password-do-not-leak-3390"
SECRETS = (CLIENT_ID, CLIENT_SECRET, SUPPORT_PASSWORD, BRAND_PASSWORD)


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def reddit(now):
    """Two department accounts, customers, a deleted and a removed comment, and a
    keyword match in r/acme that only the search finds."""
    with FakeRedditApi(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, tree_children=3) as api:
        support = api.account("AcmeSupport", password=SUPPORT_PASSWORD)
        brand = api.account("AcmeBrand", password=BRAND_PASSWORD)
        start = now - timedelta(days=2)
        seeded: dict = {"api": api, "posts": []}
        for n in range(6):
            customer = api.user(f"Customer{n}")
            post = api.submission(customer, f"Order {n} late", at=start + timedelta(minutes=n))
            ask = api.comment(
                customer,
                "u/AcmeSupport help?",
                parent=post,
                at=start + timedelta(hours=1, minutes=n),
            )
            answer = api.comment(
                support, "On it", parent=ask, at=start + timedelta(hours=2, minutes=n)
            )
            if n % 2 == 0:  # Marketing joins every other thread
                api.comment(
                    brand,
                    "20% off for you",
                    parent=answer,
                    at=start + timedelta(hours=3, minutes=n),
                )
            seeded["posts"].append(post)
        gone = api.comment(
            api.user("regretful"),
            "u/AcmeSupport rant",
            parent=seeded["posts"][0],
            at=start + timedelta(hours=4),
        )
        modded = api.comment(
            api.user("spammer"), "buy now", parent=seeded["posts"][1], at=start + timedelta(hours=4)
        )
        api.delete(gone)
        api.remove(modded)
        fan = api.user("Fan")
        found = api.submission(fan, "Acme blender died", at=start + timedelta(hours=5))
        api.comment(support, "Sorry! DM us", parent=found, at=start + timedelta(hours=6))
        seeded.update(gone=gone, modded=modded, found=found)
        yield seeded
        api.assert_served()


@pytest.fixture
def workspace(tmp_path, monkeypatch, reddit):
    config = {
        "organization": "Acme",
        "departments": [
            {"name": "Customer Care", "accounts": {"reddit": ["AcmeSupport"]}},
            {"name": "Marketing", "accounts": {"reddit": ["u/AcmeBrand"]}},
        ],
        "sources": {"reddit": "api"},
        "reddit": {"subreddits": ["acme"], "keywords": ["acme blender"], "replace_more_limit": 8},
        "thresholds": {"min_conversations": 1},
    }
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("SILOSCOPE_REDDIT_BASE_URL", reddit["api"].base_url)
    monkeypatch.setenv("SILOSCOPE_REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SILOSCOPE_REDDIT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SILOSCOPE_REDDIT_USERNAME", "AcmeSupport")
    monkeypatch.setenv("SILOSCOPE_REDDIT_PASSWORD", SUPPORT_PASSWORD)
    # Marketing's account logs in with its own app credentials to read its own inbox
    monkeypatch.setenv("SILOSCOPE_REDDIT_CLIENT_ID__ACMEBRAND", CLIENT_ID)
    monkeypatch.setenv("SILOSCOPE_REDDIT_CLIENT_SECRET__ACMEBRAND", CLIENT_SECRET)
    monkeypatch.setenv("SILOSCOPE_REDDIT_USERNAME__ACMEBRAND", "AcmeBrand")
    monkeypatch.setenv("SILOSCOPE_REDDIT_PASSWORD__ACMEBRAND", BRAND_PASSWORD)
    return tmp_path


def cli_run(workspace: Path, now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    return siloscope(
        [
            "-v",
            "run",
            "--config", str(workspace / "org.yaml"),
            "--db", str(workspace / "siloscope.duckdb"),
            "--source", "reddit",
            "--date", tomorrow,
        ]
    )  # fmt: skip


def query(workspace: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(workspace / "siloscope.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def row_counts(workspace: Path) -> dict[str, int]:
    tables = query(
        workspace,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('raw', 'ops', 'staging', 'intermediate', 'marts')",
    )
    return {t: query(workspace, f"select count(*) from {t}")[0][0] for (t,) in tables}


def test_run_source_reddit_lands_loads_and_builds_both_departments(workspace, reddit, now):
    assert cli_run(workspace, now) == 0

    runs = query(workspace, "select account, complete, ceilings from ops.extract_runs order by 1")
    assert [(account, complete) for account, complete, _ in runs] == [
        ("AcmeSupport", True),
        ("r/acme", True),
        ("u/AcmeBrand", True),
    ]
    assert all(ceilings == [] for _, _, ceilings in runs)  # each account read its own inbox
    endpoints = {e for (e,) in query(workspace, "select distinct endpoint from ops.loaded_files")}
    assert endpoints == {
        "mentions",
        "inbox_replies",
        "post_replies",
        "comments",
        "submissions",
        "search",
        "threads",
    }
    assert query(workspace, "select count(*) from ops.rejects") == [(0,)]
    # what each endpoint cost, one row per endpoint of each run
    costs = query(
        workspace,
        "select endpoint, requests, pages, posts from ops.extract_endpoints "
        "where account = 'AcmeSupport' order by endpoint",
    )
    assert [row[0] for row in costs] == [
        "comments", "inbox_replies", "login", "mentions", "post_replies", "submissions",
        "threads",
    ]  # fmt: skip
    assert dict((e, p) for e, _, _, p in costs)["mentions"] == 7  # 6 asks and the deleted rant
    # load twice, count once: every landed thing is one row, however often it was landed
    assert query(
        workspace, "select count(*) = count(distinct fullname) from raw.reddit_things"
    ) == [(True,)]
    # staging: the deleted and removed comments are there, with no author
    deleted = query(
        workspace,
        "select message_id, author_handle, conversation_id, parent_id "
        "from intermediate.int_messages_unioned "
        f"where message_id in ('t1_{reddit['gone']['id']}', 't1_{reddit['modded']['id']}') "
        "order by 1",
    )
    # ids are fullnames: comments t1_, submissions t3_
    assert deleted == sorted(
        [
            (f"t1_{reddit['gone']['id']}", None, *[f"t3_{reddit['posts'][0]['id']}"] * 2),
            (f"t1_{reddit['modded']['id']}", None, *[f"t3_{reddit['posts'][1]['id']}"] * 2),
        ]
    )
    # marts: 6 customer threads + the search find; Marketing joined 3 of the 6
    scorecard = dict(
        query(workspace, "select department, conversations from marts.department_scorecard")
    )
    assert scorecard == {"Customer Care": 7, "Marketing": 3}
    assert query(
        workspace,
        "select count(*), count(*) filter (cross_department) from marts.conversations "
        "where platform = 'reddit'",
    ) == [(7, 3)]


def test_running_again_changes_no_row_count(workspace, now):
    assert cli_run(workspace, now) == 0
    first = row_counts(workspace)
    assert cli_run(workspace, now) == 0
    again = row_counts(workspace)
    data = {t: n for t, n in first.items() if not t.startswith("ops.")}
    assert {t: again[t] for t in data} == data
    # the second run is a run of its own in ops, and its books balance
    assert again["ops.extract_runs"] == 2 * first["ops.extract_runs"]
    assert query(workspace, "select bool_and(balanced) from ops.reconciliations") == [(True,)]


def test_no_secret_reaches_the_logs_the_landing_zone_or_duckdb(
    workspace, reddit, now, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    reddit["api"].fail_next(RateLimited(reset_in=0))  # a retry is logged too
    assert cli_run(workspace, now) == 0

    leaks = [*SECRETS, *reddit["api"].access_tokens]
    assert len(leaks) > len(SECRETS)  # tokens were issued, so they could leak
    said = caplog.text + "".join(capsys.readouterr())
    for path in (workspace / "landing").rglob("*"):
        if path.is_file():
            said += path.read_text(errors="replace")
    db_bytes = (workspace / "siloscope.duckdb").read_bytes()
    with duckdb.connect(str(workspace / "siloscope.duckdb"), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON') or data_type like 'VARCHAR%'"
        ).fetchall()
        stored = "\n".join(
            str(value)
            for schema, table, column in columns
            for (value,) in con.execute(f'select "{column}" from {schema}.{table}').fetchall()
        )
    assert "acme blender" in stored.lower()  # the scan reads what was stored
    for secret in leaks:
        assert secret not in said, "a secret reached a log line or a landing file"
        assert secret not in stored, "a secret reached a DuckDB column"
        assert secret.encode() not in db_bytes


def test_a_refused_account_fails_alone_and_names_no_secret(
    workspace, reddit, now, monkeypatch, capsys
):
    wrong = "wrong-brand-password-do-not-leak"
    monkeypatch.setenv("SILOSCOPE_REDDIT_PASSWORD__ACMEBRAND", wrong)

    assert cli_run(workspace, now) == 1

    err = capsys.readouterr().err
    assert "reddit/u/AcmeBrand" in err and "refused the login" in err
    assert wrong not in err and not [s for s in SECRETS if s in err]
    runs = dict(query(workspace, "select account, complete from ops.extract_runs"))
    assert runs == {"AcmeSupport": True, "r/acme": True, "u/AcmeBrand": False}
    assert query(workspace, "select count(*) > 0 from marts.conversations") == [(True,)]
