"""A second process in the way: a reader holding the working database, another run holding
the run lock, a run killed while holding it. Each is a real process; the command meeting
it must end in one line that says who and what to do, with exit code 3 and no traceback,
and must change nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from siloscope.database import DatabaseBusy, lock_path
from siloscope.pipeline import load
from siloscope.settings import Settings
from tests.cli_process import run_siloscope, siloscope_env, write_small_config

HOLD_THE_DATABASE_OPEN = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("ready", flush=True)
time.sleep(120)
"""

HOLD_THE_RUN_LOCK = """
import sys, time
from pathlib import Path
from siloscope.database import run_lock
with run_lock(Path(sys.argv[1]), sys.argv[2]):
    print("ready", flush=True)
    time.sleep(120)
"""


@contextmanager
def holding(script: str, *args: str) -> Iterator[subprocess.Popen]:
    """A second process running `script`, once it says it holds what it holds."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=siloscope_env(),
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def night_loaded(tmp_path) -> Path:
    """A working database with one night in it, built from relative paths."""
    write_small_config(tmp_path)
    finished = run_siloscope(tmp_path, "run", "--date", "2026-11-01")
    assert finished.returncode == 0, finished.stderr
    return tmp_path / "data" / "siloscope.duckdb"


def _row_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where schema_name in ('raw', 'ops', 'marts')"
        ).fetchall()
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in tables}


@pytest.mark.parametrize("command", [["load"], ["build"], ["run", "--date", "2026-11-02"]])
def test_a_reader_holding_the_database_is_one_line_pointing_at_the_published_copy(
    tmp_path, night_loaded, command
):
    before = _row_counts(night_loaded)
    with holding(HOLD_THE_DATABASE_OPEN, str(night_loaded)) as reader:
        finished = run_siloscope(tmp_path, *command)

    assert finished.returncode == 3, finished.stderr
    assert not finished.traceback_printed
    line = finished.one_error_line
    assert str(night_loaded) in line and f"pid {reader.pid}" in line, line
    assert "a reader holds it" in line and "read the published copy" in line, line
    assert str(tmp_path / "data" / "published" / "siloscope.duckdb") in line, line
    assert _row_counts(night_loaded) == before
    assert not list((tmp_path / "data" / "landing").glob("*/*/dt=2026-11-02")), "it fetched"


def test_a_reader_in_the_way_of_validate_is_one_line_too(tmp_path, night_loaded):
    with holding(HOLD_THE_DATABASE_OPEN, str(night_loaded)):
        finished = run_siloscope(tmp_path, "validate")

    assert finished.returncode == 3, finished.stderr
    assert not finished.traceback_printed
    assert "read the published copy" in finished.one_error_line


def test_a_second_run_is_refused_naming_the_first(tmp_path):
    write_small_config(tmp_path)
    db = tmp_path / "data" / "siloscope.duckdb"
    first = "siloscope run --date 2026-11-01"

    with holding(HOLD_THE_RUN_LOCK, str(db), first) as holder:
        finished = run_siloscope(tmp_path, "run", "--date", "2026-11-01")

    assert finished.returncode == 3, finished.stderr
    assert not finished.traceback_printed
    line = finished.one_error_line
    assert f"pid {holder.pid} on {socket.gethostname()} since " in line, line
    assert first in line and str(db) in line, line
    assert not db.exists(), "the refused run wrote the database"
    assert not (tmp_path / "data" / "landing").exists(), "the refused run extracted"


def test_a_dag_task_meeting_a_command_line_run_is_refused_naming_it(tmp_path):
    """The DAG's writers open the database through the same lock (siloscope.pipeline)."""
    db = tmp_path / "siloscope.duckdb"
    (tmp_path / "landing").mkdir()
    settings = Settings.resolve(tmp_path / "acme.yaml", db, str(tmp_path / "landing"))
    with (
        holding(HOLD_THE_RUN_LOCK, str(db), "siloscope run") as holder,
        pytest.raises(DatabaseBusy) as refused,
    ):
        load(settings)
    assert f"pid {holder.pid} on {socket.gethostname()}" in str(refused.value)
    assert str(refused.value).endswith("siloscope run); wait for it to finish, then run again")


def test_the_lock_of_a_run_killed_on_this_host_is_taken_over(tmp_path, night_loaded):
    before = _row_counts(night_loaded)
    with holding(HOLD_THE_RUN_LOCK, str(night_loaded), "siloscope run") as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert lock_path(night_loaded).read_text(), "the killed run's lock file is gone"

        finished = run_siloscope(tmp_path, "run", "--date", "2026-11-01")

    assert finished.returncode == 0, finished.stderr
    assert not finished.traceback_printed
    assert f"took over the run lock {lock_path(night_loaded)}" in finished.stderr
    assert f"pid {holder.pid}" in finished.stderr
    after = _row_counts(night_loaded)
    for table in ("raw.x_posts", "raw.x_users", *(t for t in before if t.startswith("marts."))):
        assert after[table] == before[table], table
    assert lock_path(night_loaded).read_text() == "", "the lock was not given back"
