"""The working DuckDB file: who may open it, and what its errors mean to a user.

DuckDB allows one writing process per file, and a process that merely reads it (a
notebook, a BI tool) blocks every writer. Two guards keep that from ending in a driver
error:

- the run lock, `<db>.lock` beside the file: a run (the command line, or a DAG task that
  writes) takes it first, and a second run is refused with one line naming the holder.
  It is an advisory lock (flock) on an open file, so the kernel lets go of it when its
  process dies however it dies: a lock left by a dead process is simply taken over.
- `connect`, which turns DuckDB's lock and I/O errors into one line naming the file and
  what to do.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

_CONFLICTING_LOCK = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")
_COMMAND_LIMIT = 300


class DatabaseBusy(RuntimeError):
    """Another process holds the working database; trying again later will do."""


class DatabaseUnusable(RuntimeError):
    """The DuckDB file cannot be opened; the message names it and what to do. A retry
    finds the same file (`retryable`); a busy one (DatabaseBusy) is worth retrying."""

    retryable = False


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    since: str
    command: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since}: {self.command}"


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


# The locks this process holds, with how deep: a run holds it for every step, and the
# steps (shared with the DAG, where each task takes it) take it again.
_held: dict[Path, tuple[int, int]] = {}


@contextmanager
def run_lock(db_path: Path, command: str | None = None) -> Iterator[None]:
    """Hold the run lock of `db_path`; raise DatabaseBusy naming the holder if taken."""
    path = lock_path(db_path)
    if path in _held:
        descriptor, depth = _held[path]
        _held[path] = (descriptor, depth + 1)
        try:
            yield
        finally:
            _held[path] = (descriptor, depth)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(descriptor)
        os.close(descriptor)
        who = holder.describe() if holder else "a process that has not said who it is yet"
        raise DatabaseBusy(
            f"{db_path} is in use by another run ({who}); wait for it to finish, then run again"
        ) from None
    stale = _read_holder(descriptor)
    if stale is not None:
        log.warning("took over the run lock %s left by %s (gone)", path, stale.describe())
    _write_holder(descriptor, command)
    _held[path] = (descriptor, 1)
    try:
        yield
    finally:
        del _held[path]
        os.ftruncate(descriptor, 0)  # an empty lock file is a free one
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def _write_holder(descriptor: int, command: str | None) -> None:
    holder = LockHolder(
        pid=os.getpid(),
        host=socket.gethostname(),
        since=f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
        command=(command or " ".join(sys.argv))[:_COMMAND_LIMIT],
    )
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(holder.__dict__).encode(), 0)


def _read_holder(descriptor: int) -> LockHolder | None:
    body = os.pread(descriptor, 64 * 1024, 0)
    try:
        return LockHolder(**json.loads(body))
    except (ValueError, TypeError):  # empty (free), or caught half-written
        return None


@contextmanager
def connect(
    db_path: Path, read_only: bool = False, published: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection that is always closed; DuckDB's refusals become one line.

    A writer takes the run lock first, so two runs meet at the lock, not inside DuckDB.
    `published` (where dashboards read) goes into the advice when a reader is in the way.
    """
    lock: AbstractContextManager[None] = nullcontext()
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        lock = run_lock(db_path)
    with lock:
        con = _open(db_path, read_only, published)
        try:
            yield con
        finally:
            con.close()


def _open(db_path: Path, read_only: bool, published: Path | None) -> duckdb.DuckDBPyConnection:
    import duckdb

    try:
        return duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as exc:
        raise _explained(exc, db_path, read_only, published) from None


def explain(exc: BaseException, db_path: Path, published: Path | None) -> RuntimeError | None:
    """DuckDB's lock error from a connection opened elsewhere (a library's own), made one
    line; None for anything else."""
    if type(exc).__name__ != "IOException" or not _CONFLICTING_LOCK.search(str(exc)):
        return None
    return _explained(exc, db_path, "read-only" in str(exc), published)


def _explained(
    exc: BaseException, db_path: Path, read_only: bool, published: Path | None
) -> RuntimeError:
    message = str(exc).removeprefix("IO Error: ").split("\n")[0]
    holder = _CONFLICTING_LOCK.search(message)
    if holder is None:
        return DatabaseUnusable(f"{db_path}: cannot open the DuckDB file: {message}")
    program, pid = holder.groups()
    who = f"{Path(program).name} pid {pid}"
    copy = f" ({published / 'siloscope.duckdb'})" if published else ""
    if read_only:
        return DatabaseBusy(
            f"{db_path} is being written by another process ({who}): wait for it to "
            f"finish, or read the published copy{copy} instead"
        )
    return DatabaseBusy(
        f"{db_path} is held open by another process ({who}), so nothing was written: if a "
        f"reader holds it (a notebook, a BI tool), read the published copy{copy} instead "
        "and close it there; if a run holds it, wait for it to finish"
    )
