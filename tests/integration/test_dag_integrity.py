"""The DAG as the scheduler sees it: imports cleanly, parses fast, stays thin."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
HEAVY = ("duckdb", "polars", "tweepy", "praw", "pandas", "great_expectations", "networkx")

# Run in a fresh interpreter: this test process has long since imported the heavy ones.
PARSE_PROBE = """
import json, sys, tempfile, time
from airflow.dag_processing.dagbag import DagBag
# Airflow's own imports are paid once per parsing process, not per parse: warm them up
# on an empty folder, then time the parse of dags/ alone.
DagBag(dag_folder=tempfile.mkdtemp())
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds,
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dag_ids),
    "modules": sorted(sys.modules),
}))
"""


@pytest.fixture(scope="module")
def parse_result():
    output = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(DAGS)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_dags_import_without_errors(parse_result):
    assert parse_result["errors"] == {}
    assert parse_result["dags"] == ["siloscope_nightly"]


def test_dags_parse_without_heavy_libraries(parse_result):
    loaded = [m for m in parse_result["modules"] if m.split(".")[0] in HEAVY]
    assert loaded == []


def test_dags_parse_in_under_half_a_second(parse_result):
    # the scheduler re-parses dags/ continually; the issue sets this bound
    assert parse_result["seconds"] < 0.5, parse_result["seconds"]


def test_no_heavy_import_at_module_level_in_any_dag_file():
    for path in DAGS.glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import ", "from ")):
                module = line.split()[1].split(".")[0]
                assert module not in HEAVY, f"{path.name}: {line}"


@pytest.fixture(scope="module")
def nightly():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS)).dags["siloscope_nightly"]


def test_nightly_dag_has_tags_retries_and_a_schedule(nightly):
    assert {"siloscope"} <= set(nightly.tags)
    assert nightly.max_active_runs == 1
    assert nightly.catchup is False
    for task in nightly.tasks:
        assert task.retries >= 2, task.task_id
        assert task.retry_exponential_backoff, task.task_id


def test_every_duckdb_writer_shares_the_one_slot_pool(nightly):
    # publish only reads the working database, but a read cannot open it while a writer has it
    writers = {"plan", "load", "reconcile", "build", "validate", "publish"}
    assert {t.task_id for t in nightly.tasks if t.pool == "siloscope_duckdb"} == writers
    extract = nightly.get_task("extract")
    assert extract.pool != "siloscope_duckdb"


def test_one_extract_task_per_account_by_dynamic_mapping(nightly):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    assert isinstance(nightly.get_task("extract"), MappedOperator)
    assert nightly.get_task("load").trigger_rule == "all_done"
    assert "extract" in nightly.get_task("summarize").upstream_task_ids


def test_only_a_finished_night_is_published_and_the_page_drawn_from_it(nightly):
    publish = nightly.get_task("publish")
    upstream = publish.get_flat_relative_ids(upstream=True)
    assert {"build", "extract", "load"} <= upstream
    assert publish.trigger_rule == "all_success"
    assert nightly.get_task("report_page").upstream_task_ids == {"publish"}


def test_the_books_balance_before_the_build_and_validation_comes_after_it(nightly):
    assert nightly.get_task("reconcile").upstream_task_ids == {"load"}
    assert nightly.get_task("build").upstream_task_ids == {"reconcile"}
    assert nightly.get_task("validate").upstream_task_ids == {"build"}
    assert "validate" in nightly.get_task("summarize").upstream_task_ids
    assert "validate" in nightly.get_task("publish").upstream_task_ids


# A task's queue is stored with the DAG, so it is read when the file is parsed: probe it in a
# fresh interpreter with the variable set (or not) the way a worker's environment would.
QUEUE_PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["siloscope_nightly"]
print(json.dumps({task.task_id: task.queue for task in dag.tasks}))
"""
# Every task that opens the working DuckDB file, or reads what it publishes beside it.
ON_THE_WRITERS_DISK = {"plan", "load", "reconcile", "build", "validate", "publish", "report_page"}


def parsed_queues(writer_queue: str | None) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "SILOSCOPE_WRITER_QUEUE"}
    if writer_queue is not None:
        env["SILOSCOPE_WRITER_QUEUE"] = writer_queue
    output = subprocess.run(
        [sys.executable, "-c", QUEUE_PROBE, str(DAGS)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_tasks_on_the_duckdb_file_go_to_the_writer_queue_and_extracts_anywhere():
    queues = parsed_queues("siloscope_writer")
    assert {task for task, queue in queues.items() if queue == "siloscope_writer"} == (
        ON_THE_WRITERS_DISK
    )
    assert queues["extract"] == "default", "extracts belong on the queue every worker serves"


def test_without_a_writer_queue_every_task_stays_on_the_default_queue():
    assert set(parsed_queues(None).values()) == {"default"}
