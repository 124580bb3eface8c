"""kill -9 at any point of a run, then the same run again: every table as after a clean run.

The run is the real `siloscope run` process on the simulated source, killed with SIGKILL
after a delay spread over a clean run's duration (so the kill falls in extract, load,
build, validate or publish, wherever the machine's speed puts it). Running the night again
must end in exit 0 with raw, staging, intermediate and marts equal, row for row, to a
run that was never killed: nothing lost, nothing counted twice, no half-written state kept.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from tests.cli_process import SILOSCOPE, run_siloscope, siloscope_env, write_small_config

NIGHT = "2026-11-01"
RUN = ("run", "--config", "config/acme.yaml", "--db", "data/siloscope.duckdb", "--date", NIGHT)
SCHEMAS = ("raw", "staging", "intermediate", "marts")
# What differs between two runs by design: which load stamped a row, when, from which
# run folder (each run lands in a folder of its own), when a handle was resolved.
PER_RUN_COLUMN = re.compile(r"^(load_id|loaded_at|landing_file|resolved_at|built_at|run_id)$")
# Fractions of a clean run's duration at which the run is killed.
KILL_POINTS = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every table of the data schemas, per-run columns left out, rows sorted."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            f"where schema_name in {SCHEMAS} order by 1, 2"
        ).fetchall()
        contents = {}
        for schema, table in names:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() "
                    "where schema_name = ? and table_name = ? order by column_index",
                    [schema, table],
                ).fetchall()
                if not PER_RUN_COLUMN.search(name)
            ]
            selected = ", ".join(f'"{c}"::varchar' for c in columns)
            rows = con.execute(f'select {selected} from "{schema}"."{table}"').fetchall()
            contents[f"{schema}.{table}"] = sorted(rows, key=repr)
        return contents


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> tuple[dict[str, list[tuple]], float]:
    cwd = tmp_path_factory.mktemp("clean")
    write_small_config(cwd)
    started = time.monotonic()
    finished = run_siloscope(cwd, *RUN)
    seconds = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    contents = tables(cwd / "data" / "siloscope.duckdb")
    assert contents["marts.conversations"], "the clean run built no conversations"
    return contents, seconds


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_run_killed_at_any_point_then_run_again_equals_a_clean_run(
    point: float, clean_run, tmp_path: Path
) -> None:
    clean, seconds = clean_run
    write_small_config(tmp_path)
    process = subprocess.Popen(
        [str(SILOSCOPE), *RUN],
        cwd=tmp_path,
        env=siloscope_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=seconds * point)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    process.wait()

    again = run_siloscope(tmp_path, *RUN)
    assert again.returncode == 0, again.stderr
    assert not again.traceback_printed
    after = tables(tmp_path / "data" / "siloscope.duckdb")
    assert sorted(after) == sorted(clean)
    differing = [name for name in clean if after[name] != clean[name]]
    assert differing == [], f"killed at {point:.0%} of a run: {differing} differ"
