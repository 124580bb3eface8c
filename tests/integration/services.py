"""Real servers the tests start themselves, on 127.0.0.1 and in temporary folders: moto's
standalone S3 server, Redis, a private PostgreSQL cluster, and any long-running command.

Every wait is bounded and says what it waited for, with the end of the server's log; every
process is started in its own process group and stopped with it, also when a test fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

LOOPBACK = "127.0.0.1"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} was never written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    what: str,
    log: Path | None = None,
    still_alive: Callable[[], None] | None = None,
) -> None:
    """Poll `ready` until it holds; `still_alive` raises at once if what it waits on died."""
    deadline = time.monotonic() + timeout
    while (still_alive is None or still_alive() is None) and not ready():
        if time.monotonic() > deadline:
            tail = f"\n--- end of {log} ---\n{log_tail(log)}" if log else ""
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}{tail}")
        time.sleep(0.5)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((LOOPBACK, port)) == 0


class Service:
    """One long-running command, its output in `log`."""

    def __init__(self, name: str, argv: list[str], log: Path, **popen) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                argv,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends its children too
                **popen,
            )

    def running(self) -> bool:
        return self.process.poll() is None

    def require_running(self) -> None:
        if not self.running():
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}\n"
                f"--- end of {self.log} ---\n{log_tail(self.log)}"
            )

    def stop(self, grace: float = 20) -> None:
        group = self.process.pid  # start_new_session: the group id is the leader's pid
        if self.running():
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        # whatever outlived the leader, or ignored SIGTERM (a Celery pool, a task process)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def service(name: str, argv: list[str], log: Path, **popen) -> Iterator[Service]:
    started = Service(name, argv, log, **popen)
    try:
        yield started
    finally:
        started.stop()


@contextmanager
def moto_s3(folder: Path) -> Iterator[tuple[str, Path]]:
    """moto's standalone S3 server: yields its endpoint URL and its request log."""
    moto_server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert moto_server, "moto_server is missing: it comes with moto[server] in the dev group"
    port = free_port()
    log = folder / "moto.log"
    with service("moto_server", [moto_server, "-H", LOOPBACK, "-p", str(port)], log) as moto:
        wait_until(lambda: port_open(port), 60, "moto_server", log, moto.require_running)
        yield f"http://{LOOPBACK}:{port}", log


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Redis without persistence; yields its URL."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: `make test-scale` installs it (apt-get)"
    port = free_port()
    log = folder / "redis.log"
    argv = [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no"]
    with service("redis-server", argv, log, cwd=folder) as redis:
        wait_until(lambda: port_open(port), 30, "redis-server", log, redis.require_running)
        yield f"redis://{LOOPBACK}:{port}/0"


@contextmanager
def postgres_cluster(database: str) -> Iterator[str]:
    """A private PostgreSQL cluster in a temporary folder, run as the `postgres` user when
    this is root (the server refuses root); yields a SQLAlchemy URL of a fresh `database`."""
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Not under pytest's tmp_path: its parents are private to root, and postgres must enter.
    folder = Path(tempfile.mkdtemp(prefix="siloscope-postgres-"))
    data = folder / "data"
    if as_owner:
        shutil.chown(folder, "postgres")
    port = free_port()
    log = folder / "postgres.log"
    pg_ctl = [*as_owner, str(POSTGRES_BIN / "pg_ctl"), "-D", str(data)]
    options = f"-h {LOOPBACK} -p {port} -k {folder} -c fsync=off -c max_connections=200"
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        _run([*as_owner, str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "postgres",
              "--auth=trust", "-E", "UTF8"], "initdb", log)  # fmt: skip
        _run([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"], "pg_ctl", log)
        stack.callback(
            subprocess.run, [*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60
        )
        _run([*as_owner, str(POSTGRES_BIN / "createdb"), "-h", LOOPBACK, "-p", str(port),
              "-U", "postgres", database], "createdb", log)  # fmt: skip
        yield f"postgresql+psycopg2://postgres@{LOOPBACK}:{port}/{database}"


def _run(argv: list[str], what: str, log: Path) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({done.returncode}): {done.stderr.strip()}\n{log_tail(log)}"
        )
