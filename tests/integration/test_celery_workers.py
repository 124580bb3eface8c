"""The nightly DAG on Celery workers on two "machines" (`make test-scale`): Postgres metadata,
Redis broker, landing zone in S3, one worker serving the writer and general queues, one
only the general queue, each with its own working directory and hostname.

One DAG run of a 10-account organisation: it succeeds, its extracts ran on both workers,
every task on the DuckDB file's disk ran on the writer, the pages are in the bucket and on
no worker's disk, and the marts equal those `siloscope run` builds for the same night.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from siloscope.pipeline import run_all
from siloscope.settings import Settings
from tests.integration.celery_stack import (
    BUCKET,
    GENERAL_QUEUE,
    LANDING_CONN_ID,
    WRITER_QUEUE,
    Worker,
    celery_stack,
    simulated_organisation,
)
from tests.marts_fixture import all_mart_rows

pytestmark = pytest.mark.scale

NIGHT = datetime(2026, 11, 1, tzinfo=UTC)
RUN_ID = "scale__2026-11-01"
WRITER = Worker("writer-host", (WRITER_QUEUE, GENERAL_QUEUE))
EXTRACTOR = Worker("extract-host", (GENERAL_QUEUE,))
# Every task that opens the working DuckDB file, or reads what it publishes beside it.
ON_THE_WRITERS_DISK = {"plan", "load", "reconcile", "build", "validate", "publish", "report_page"}
N_ACCOUNTS = 10


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "siloscope.yaml"
    path.write_text(simulated_organisation(N_ACCOUNTS))
    return path


@pytest.fixture(scope="module")
def cli_night(tmp_path_factory, config) -> Path:
    """The same night by `siloscope run`'s code path, on one machine with a local landing."""
    folder = tmp_path_factory.mktemp("cli")
    settings = Settings.resolve(config, folder / "siloscope.duckdb", str(folder / "landing"))
    run_all(settings, "cli__2026-11-01", NIGHT)
    return settings.db_path


@pytest.fixture(scope="module")
def night_on_two_workers(tmp_path_factory, config):
    root = tmp_path_factory.mktemp("celery")
    with celery_stack(root, config, [WRITER, EXTRACTOR]) as cluster:
        cluster.trigger(f"{NIGHT:%Y-%m-%d}", RUN_ID)
        state = cluster.wait_for(RUN_ID)
        assert state == "success", f"the DAG run ended {state}:\n{cluster.describe(RUN_ID)}"
        tasks = cluster.task_instances(RUN_ID)
        yield cluster, tasks


def test_extracts_ran_on_both_workers(night_on_two_workers):
    _cluster, tasks = night_on_two_workers
    extracts = [t for t in tasks if t["task_id"] == "extract"]
    assert len(extracts) == N_ACCOUNTS
    assert all(t["state"] == "success" for t in extracts)
    assert {t["hostname"] for t in extracts} == {WRITER.hostname, EXTRACTOR.hostname}, (
        "the extracts did not spread over both workers"
    )


def test_every_task_on_the_duckdb_file_ran_on_the_writer(night_on_two_workers):
    _cluster, tasks = night_on_two_workers
    on_writer_queue = {t["task_id"] for t in tasks if t["queue"] == WRITER_QUEUE}
    assert on_writer_queue == ON_THE_WRITERS_DISK
    for task in tasks:
        if task["task_id"] in ON_THE_WRITERS_DISK:
            assert task["hostname"] == WRITER.hostname, f"{task['task_id']} ran on {task}"
    assert not [t for t in tasks if t["state"] != "success"]


def test_pages_are_in_the_bucket_and_on_no_workers_disk(night_on_two_workers, monkeypatch):
    cluster, _tasks = night_on_two_workers
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{LANDING_CONN_ID.upper()}",
        cluster.environment[f"AIRFLOW_CONN_{LANDING_CONN_ID.upper()}"],
    )
    monkeypatch.setenv("SILOSCOPE_LANDING_CONN_ID", LANDING_CONN_ID)
    zone = Settings.resolve(landing_root=cluster.landing).landing_zone()
    manifests = zone.manifest_paths()
    assert len(manifests) == N_ACCOUNTS
    assert all(path.startswith(f"{BUCKET}/landing/x/") for path in manifests)
    for hostname, folder in cluster.workers.items():
        on_disk = [p for p in folder.rglob("*.json") if p.name.startswith(("page-", "_manifest"))]
        assert not on_disk, f"{hostname} kept landing files on its disk: {on_disk[:3]}"
    assert not (cluster.workers[EXTRACTOR.hostname] / "data" / "siloscope.duckdb").exists(), (
        "the extract-only worker opened a DuckDB file"
    )


def test_the_marts_equal_those_of_siloscope_run(night_on_two_workers, cli_night):
    cluster, _tasks = night_on_two_workers
    on_the_writer = all_mart_rows(cluster.workers[WRITER.hostname] / "data" / "siloscope.duckdb")
    assert on_the_writer["org_verdict"], "the writer built no verdict"
    assert on_the_writer == all_mart_rows(cli_night)
