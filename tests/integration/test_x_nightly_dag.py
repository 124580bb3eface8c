"""The whole nightly DAG, run by Airflow itself (dag.test), against the local fake X API.

Two departments' accounts; the Connection x_default reaches the tasks through the
environment (AIRFLOW_CONN_X_DEFAULT, JSON), as a deployment's secrets backend would give
it. Night one loads both; on night two one account's pages arrive truncated, so its
extract fails while the other account is loaded and built and the run ends failed; the
same night run again once the API behaves fills the gap.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from tests.integration.fake_x_api import FakeXApi, Truncated
from tests.integration.x_scenarios import (
    Conversations,
    everything_landed,
    everything_stored,
    query,
    seed_conversations,
    unique_name,
    write_config,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "dag-bearer-51d0e7-never-store-me"
TODAY = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
# Both nights lie in the past, inside recent search's 7 days.
NIGHT_ONE = TODAY - timedelta(days=2)
NIGHT_TWO = TODAY - timedelta(days=1)
ENVIRONMENT = (
    "SILOSCOPE_CONFIG",
    "SILOSCOPE_DB",
    "SILOSCOPE_LANDING",
    "AIRFLOW_CONN_X_DEFAULT",
)


@pytest.fixture(scope="module")
def x_api():
    with FakeXApi(token=TOKEN) as api:
        yield api


@pytest.fixture(scope="module")
def org(x_api):
    """Customer Care answers its own mentions and joins some of Marketing's threads."""
    care = x_api.user(unique_name("care"))
    brand = x_api.user(unique_name("brand"))
    start = NIGHT_ONE - timedelta(days=2)
    care_only = seed_conversations(x_api, care, 40, start=start)
    brand_only = seed_conversations(x_api, brand, 25, start=start + timedelta(hours=3))
    shared = seed_conversations(x_api, brand, 5, start=start + timedelta(hours=6))
    joined = Conversations(care)
    for root in shared.roots:
        joined.replies.append(
            x_api.post(
                care,
                f"@{brand['username']} passing this to our care team",
                at=datetime.fromisoformat(root["created_at"]) + timedelta(hours=2),
                reply_to=root,
            )
        )
    return {
        "care": care,
        "brand": brand,
        "care_only": care_only,
        "brand_only": brand_only,
        "shared": shared,
        "joined": joined,
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, x_api, org):
    root = tmp_path_factory.mktemp("x-nightly")
    config = write_config(
        root / "org.yaml",
        {"Customer Care": [org["care"]["username"]], "Marketing": [org["brand"]["username"]]},
    )
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    os.environ["SILOSCOPE_CONFIG"] = str(config)
    os.environ["SILOSCOPE_DB"] = str(root / "siloscope.duckdb")
    os.environ["SILOSCOPE_LANDING"] = str(root / "landing")
    os.environ["AIRFLOW_CONN_X_DEFAULT"] = json.dumps(
        {
            "conn_type": "http",
            "host": x_api.base_url,
            "password": TOKEN,
            "extra": {"max_retries": 1, "backoff_seconds": 0.01},
        }
    )
    yield root
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def nightly(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["siloscope_nightly"]
    # A failing extract retries as it would in production, without minutes between tries.
    for task in dag.tasks:
        task.retry_delay = timedelta(0)
    return dag


class Transcript(logging.Handler):
    """Every log record of the DAG runs, formatted, and what they printed."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def transcript():
    return Transcript()


def run_dag(nightly, night: datetime, transcript: Transcript, request):
    """dag.test for `night`, its log kept in `transcript`, with tweepy's request log on.

    Airflow writes part of its output to stderr, around logging; pytest's own capture
    holds it, so it is read from there and written back for pytest to show on failure.
    """
    root, tweepy_log = logging.getLogger(), logging.getLogger("tweepy")
    level = tweepy_log.level
    root.addHandler(transcript)
    tweepy_log.setLevel(logging.DEBUG)  # it logs each request's headers at DEBUG
    try:
        return nightly.test(logical_date=night)
    finally:
        root.removeHandler(transcript)
        tweepy_log.setLevel(level)
        capture = request.config.pluginmanager.getplugin("capturemanager")
        if capture is not None and capture.is_globally_capturing():
            out, err = capture.read_global_capture()
            transcript.lines += [out, err]
            sys.stdout.write(out)
            sys.stderr.write(err)


def task_states(run) -> dict[str, str]:
    """Each task's final state; mapped extracts by their map index label (x/<account>)."""
    return {
        (ti.rendered_map_index or ti.task_id) if ti.task_id == "extract" else ti.task_id: ti.state
        for ti in run.get_task_instances()
    }


@pytest.fixture(scope="module")
def night_one(workspace, nightly, x_api, transcript, request):
    return run_dag(nightly, NIGHT_ONE, transcript, request)


@pytest.fixture(scope="module")
def night_two(night_one, workspace, nightly, x_api, org, transcript, request):
    later = {
        "care": seed_conversations(x_api, org["care"], 3, start=NIGHT_ONE + timedelta(hours=2)),
        "brand": seed_conversations(x_api, org["brand"], 2, start=NIGHT_ONE + timedelta(hours=4)),
    }
    # every try of the brand account's extract gets a truncated first mentions page
    tries = 1 + nightly.get_task("extract").retries
    x_api.fail_next(
        Truncated(keep=0.5), endpoint="mentions", account=org["brand"]["username"], times=tries
    )
    run = run_dag(nightly, NIGHT_TWO, transcript, request)
    assert x_api.pending_faults == []
    return run, later


def db(workspace: Path) -> Path:
    return workspace / "siloscope.duckdb"


def test_night_one_loads_and_builds_both_departments(workspace, night_one, org, x_api):
    assert night_one.state == "success"
    x_api.assert_served()
    care, brand = org["care"]["username"], org["brand"]["username"]
    assert set(task_states(night_one).values()) == {"success"}
    posts = {post_id for (post_id,) in query(db(workspace), "select id from raw.x_posts")}
    seeded = (
        org["care_only"].post_ids
        | org["brand_only"].post_ids
        | org["shared"].post_ids
        | org["joined"].post_ids
    )
    assert posts == seeded
    departments = dict(
        query(
            db(workspace),
            "select department, count(*) from "
            "(select unnest(departments_engaged) as department from marts.conversations) "
            "group by department",
        )
    )
    assert departments == {"Customer Care": 40 + 5, "Marketing": 25 + 5}
    assert query(
        db(workspace),
        "select count(*), count(*) filter (cross_department) from marts.conversations",
    ) == [(70, 5)]
    # the ops record of each account's run: both complete, every endpoint counted
    runs = query(
        db(workspace),
        "select account, complete, requests from ops.extract_runs order by account",
    )
    assert [(account, complete) for account, complete, _ in runs] == sorted(
        [(brand, True), (care, True)]
    )
    per_endpoint = dict(
        query(
            db(workspace),
            "select account || ' ' || endpoint, posts from ops.extract_endpoints "
            "where endpoint in ('mentions', 'tweets')",
        )
    )
    assert per_endpoint == {
        f"{care} mentions": 40,
        f"{care} tweets": 45,
        f"{brand} mentions": 30 + 5,  # care's replies in shared threads mention @brand
        f"{brand} tweets": 30,
    }


def test_night_two_fails_the_broken_account_and_loads_the_other(workspace, night_two, nightly, org):
    run, later = night_two
    care, brand = org["care"]["username"], org["brand"]["username"]
    assert run.state == "failed"
    states = task_states(run)
    assert states[f"x/{brand}"] == "failed"
    assert states[f"x/{care}"] == "success"
    assert (states["load"], states["build"]) == ("success", "success")
    assert states["summarize"] == "upstream_failed"
    # dashboards keep the last complete night
    assert (states["publish"], states["report_page"]) == ("upstream_failed", "upstream_failed")

    posts = {post_id for (post_id,) in query(db(workspace), "select id from raw.x_posts")}
    assert later["care"].post_ids <= posts
    assert not later["brand"].post_ids & posts
    # every try landed its truncated page in a folder of its own: each is kept, as
    # received, with the parser's reason, and each try is an extract run that failed
    tries = 1 + nightly.get_task("extract").retries
    rejected = query(db(workspace), "select landing_file, reason, record, account from ops.rejects")
    assert len({landing_file for landing_file, *_ in rejected}) == len(rejected) == tries
    for landing_file, reason, record, account in rejected:
        assert account == brand and f"/dt={NIGHT_TWO.date()}/" in landing_file
        assert "Malformed JSON" in reason
        assert record.encode() == Path(landing_file).read_bytes()
    runs = query(
        db(workspace),
        "select complete, error from ops.extract_runs where account = ? and until = ?",
        [brand, NIGHT_TWO],
    )
    assert len(runs) == tries
    for complete, error in runs:
        assert not complete and error.startswith("XMalformedPageError") and "X mentions" in error
    # an interrupted newest-first pagination moves no watermark past what it never reached
    assert query(
        db(workspace),
        "select count(*) from ops.watermarks where account = ? and until = ?",
        [brand, NIGHT_TWO],
    ) == [(0,)]
    # built anyway: the night's window counts the care account's new conversations
    assert query(
        db(workspace),
        "select count(*) from marts.org_verdict where window_end = ?",
        [NIGHT_TWO],
    ) == [(1,)]
    assert query(
        db(workspace),
        "select count(*) from marts.conversations where conversation_id in "
        "(select unnest(?::varchar[]))",
        [[root["conversation_id"] for root in later["care"].roots]],
    ) == [(3,)]


def test_running_night_two_again_fills_the_gap(
    workspace, night_two, nightly, org, x_api, transcript, request
):
    run, later = night_two
    seen = len(x_api.requests)
    again = run_dag(nightly, NIGHT_TWO, transcript, request)

    assert again.state == "success"
    posts = {post_id for (post_id,) in query(db(workspace), "select id from raw.x_posts")}
    assert later["brand"].post_ids <= posts
    # the broken tries' pages stay rejected; the run that filled the gap refused nothing
    assert query(
        db(workspace),
        "select count(*) from ops.rejects where landing_file in "
        "(select landing_file from ops.loaded_files where run_id = ?)",
        [again.run_id],
    ) == [(0,)]
    # the broken tries' rejects are kept, resolved by the run that filled the gap
    assert query(db(workspace), "select count(*) from ops.rejects where resolved_at is null") == [
        (0,)
    ]
    assert query(db(workspace), "select count(*) from ops.rejects")[0][0] > 0
    # the re-run asks from night one's watermark, as the broken run did
    brand_mentions = [
        r
        for r in x_api.requests[seen:]
        if r.endpoint == "mentions" and r.path.split("/")[3] == org["brand"]["id"]
    ]
    [(night_one_mark,)] = query(
        db(workspace),
        "select since_id from ops.watermarks where account = ? and endpoint = 'mentions' "
        "and until = ?",
        [org["brand"]["username"], NIGHT_ONE],
    )
    assert [r.params["since_id"] for r in brand_mentions] == [night_one_mark]


def test_the_token_is_in_no_landing_file_table_or_log(workspace, night_two, transcript):
    logged = "\n".join(transcript.lines)
    assert "Bearer ***" in logged  # tweepy's request log was there, redacted
    assert "XMalformedPageError" in logged  # and the failing extract's error
    assert TOKEN not in logged
    assert TOKEN.encode() not in everything_landed(workspace / "landing")
    assert TOKEN not in everything_stored(db(workspace))
    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    written = [path for path in airflow_home.rglob("*") if path.is_file()]
    assert written  # the metadata database, at least
    assert not [path for path in written if TOKEN.encode() in path.read_bytes()]


def test_the_connection_gives_the_base_url_and_the_sources_settings(workspace, x_api, monkeypatch):
    from siloscope.sources import airflow_live_source

    source = airflow_live_source("x")
    assert source.base_url == x_api.base_url
    assert (source.retry_policy.max_retries, source.retry_policy.backoff_seconds) == (1, 0.01)
    assert TOKEN not in repr(source)

    connection = json.loads(os.environ["AIRFLOW_CONN_X_DEFAULT"])
    connection["extra"] = {"max_retries": "a few"}
    monkeypatch.setenv("AIRFLOW_CONN_X_DEFAULT", json.dumps(connection))
    with pytest.raises(ValueError, match="x_default, extra 'max_retries': expected a whole"):
        airflow_live_source("x")
