"""Airflow as teams run it, started on loopback and in temporary folders: PostgreSQL for the
metadata, Redis as the Celery broker, moto's S3 server for the landing zone, then the
api-server, the scheduler, the dag-processor and Celery workers, each worker a "machine" of
its own: its own working directory, AIRFLOW_HOME and hostname, no disk shared with another.

Used by tests/integration/test_celery_workers.py (`make test-scale`) and by
`python -m bench.celery_workers` (the 1-vs-2-workers figure in the README).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.services import (
    Service,
    free_port,
    log_tail,
    moto_s3,
    port_open,
    postgres_cluster,
    redis_server,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "siloscope_nightly"
WRITER_QUEUE = "siloscope_writer"
GENERAL_QUEUE = "default"  # Airflow's [operators] default_queue: where extracts go
BUCKET = "siloscope-landing"
LANDING_CONN_ID = "siloscope_landing"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
# Bounded waits, generous for a 2-core CI machine shared with other jobs.
STARTUP_TIMEOUT = 180
DAG_RUN_TIMEOUT = 900


DEPARTMENTS = ("Customer Care", "Marketing", "Sales", "HR", "Innovation")


def simulated_organisation(accounts: int, seed: int = 11) -> str:
    """A config of `accounts` X accounts spread over five departments, simulated source."""
    handles: dict[str, list[str]] = {name: [] for name in DEPARTMENTS}
    for number in range(accounts):
        department = DEPARTMENTS[number % len(DEPARTMENTS)]
        # X handles are at most 15 characters: "AcmeCustom12"
        handles[department].append(f"Acme{department.replace(' ', '')[:6]}{number}")
    lines = ["organization: Acme", "departments:"]
    for name, accounts_of in handles.items():
        lines += [f"  - name: {name}", "    accounts:", f"      x: [{', '.join(accounts_of)}]"]
    lines += ["sources:", "  x: simulated", "simulation:", "  structure: glued",
              "  glue_department: Customer Care", f"  seed: {seed}",
              "  conversations_per_day: 6", ""]  # fmt: skip
    return "\n".join(lines)


@dataclass(frozen=True)
class Worker:
    hostname: str
    queues: tuple[str, ...]
    concurrency: int = 2


@dataclass
class CeleryStack:
    root: Path
    environment: dict[str, str]
    database_url: str
    landing: str
    workers: dict[str, Path] = field(default_factory=dict)  # hostname -> working directory
    services: list[Service] = field(default_factory=list)

    def airflow(self, *args: str, timeout: float = 240) -> str:
        done = subprocess.run(
            [AIRFLOW, *args],
            env=self.environment | {"AIRFLOW_HOME": str(self.root / "control")},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def query(self, sql: str, *parameters) -> list[tuple]:
        import psycopg2

        dsn = self.database_url.replace("+psycopg2", "")
        with closing(psycopg2.connect(dsn)) as con, con.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall()

    def require_running(self) -> None:
        for started in self.services:
            started.require_running()

    def trigger(self, night: str, run_id: str) -> None:
        """Trigger the run of `night` (YYYY-MM-DD: the day ending at its midnight, as
        `siloscope run --date` measures it) through the REST API, as a user re-running a
        night would: `airflow dags trigger` would end the interval at the moment of the
        trigger instead."""
        wait_until(
            lambda: bool(self.query("select 1 from serialized_dag where dag_id = %s", DAG_ID)),
            STARTUP_TIMEOUT,
            f"the dag-processor to store {DAG_ID}",
            self.root / "control" / "dag-processor.log",
            self.require_running,
        )
        end = datetime.fromisoformat(night).replace(tzinfo=UTC)
        body = {
            "dag_run_id": run_id,
            "logical_date": end.isoformat(),
            "data_interval_start": (end - timedelta(days=1)).isoformat(),
            "data_interval_end": end.isoformat(),
        }
        self.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", body)

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """The api-server's REST API, with the token the simple auth manager hands out."""
        token = self._call("GET", "/auth/token")["access_token"]
        return self._call(method, path, body, {"Authorization": f"Bearer {token}"})

    def _call(self, method: str, path: str, body=None, headers=None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.environment['AIRFLOW__API__PORT']}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None

    def wait_for(self, run_id: str, timeout: float = DAG_RUN_TIMEOUT) -> str:
        """The final state of the run; the task states and logs if it does not end in time."""

        def finished() -> bool:
            state = self.query("select state from dag_run where run_id = %s", run_id)
            return bool(state) and state[0][0] in ("success", "failed")

        try:
            wait_until(finished, timeout, f"DAG run {run_id} to finish", None, self.require_running)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.describe(run_id)}") from None
        return self.query("select state from dag_run where run_id = %s", run_id)[0][0]

    def task_instances(self, run_id: str) -> list[dict]:
        rows = self.query(
            "select task_id, map_index, state, queue, hostname, start_date, end_date "
            "from task_instance where dag_id = %s and run_id = %s order by task_id, map_index",
            DAG_ID,
            run_id,
        )
        names = ("task_id", "map_index", "state", "queue", "hostname", "start_date", "end_date")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def describe(self, run_id: str) -> str:
        """What to read when a run failed: each task's state and host, the services' logs."""
        lines = [
            f"  {t['task_id']}[{t['map_index']}] {t['state']} on {t['hostname'] or '-'}"
            for t in self.task_instances(run_id)
        ]
        for started in self.services:
            lines += [f"--- end of {started.log} ---", log_tail(started.log, 25)]
        return "\n".join(lines)


def common_environment(
    database_url: str, broker_url: str, s3_endpoint: str, api_port: int
) -> dict[str, str]:
    from cryptography.fernet import Fernet

    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "SILOSCOPE_", "AWS_")) and k != "PYTHONPATH"
    }
    connection = {
        "conn_type": "aws",
        "login": "siloscope-scale-test",
        "password": "siloscope-scale-test-secret",
        "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    backend = "db+" + database_url  # SQLAlchemy 2.1 would pick psycopg 3 for a bare postgresql
    return inherited | {
        "PYTHONPATH": str(REPO),  # the workers' hostname_callable lives in tests/
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": backend,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        # Every process of the deployment shares these two, as a real one does.
        "AIRFLOW__API_AUTH__JWT_SECRET": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # Only the run the test triggers: no scheduled run of today joins it.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        # The deployment's settings (README, "When one machine is not enough").
        "SILOSCOPE_WRITER_QUEUE": WRITER_QUEUE,
        "SILOSCOPE_LANDING": f"s3://{BUCKET}/landing",
        "SILOSCOPE_LANDING_CONN_ID": LANDING_CONN_ID,
        f"AIRFLOW_CONN_{LANDING_CONN_ID.upper()}": json.dumps(connection),
    }


def create_bucket(endpoint: str, environment: dict[str, str]) -> None:
    import s3fs

    connection = json.loads(environment[f"AIRFLOW_CONN_{LANDING_CONN_ID.upper()}"])
    s3fs.S3FileSystem(
        key=connection["login"],
        secret=connection["password"],
        endpoint_url=endpoint,
        skip_instance_cache=True,
    ).mkdir(BUCKET)


def worker_folder(root: Path, worker: Worker, config: Path) -> tuple[Path, dict[str, str]]:
    """A machine of its own: working directory, config copy, database path, AIRFLOW_HOME."""
    home = root / worker.hostname
    (home / "data").mkdir(parents=True)
    shutil.copy(config, home / "siloscope.yaml")
    return home, {
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.integration.celery_hostname.from_environment",
        "SILOSCOPE_TEST_WORKER_HOSTNAME": worker.hostname,
        "SILOSCOPE_CONFIG": str(home / "siloscope.yaml"),
        "SILOSCOPE_DB": str(home / "data" / "siloscope.duckdb"),
    }


@contextmanager
def celery_stack(root: Path, config: Path, workers: list[Worker]) -> Iterator[CeleryStack]:
    """Everything started, in order, each waited for; everything stopped on the way out."""
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_cluster("airflow"))
        broker_url = stack.enter_context(redis_server(root))
        s3_endpoint, _ = stack.enter_context(moto_s3(root))
        api_port = free_port()
        environment = common_environment(database_url, broker_url, s3_endpoint, api_port)
        create_bucket(s3_endpoint, environment)
        (root / "control").mkdir()
        cluster = CeleryStack(root, environment, database_url, environment["SILOSCOPE_LANDING"])
        cluster.airflow("db", "migrate", timeout=600)
        cluster.airflow("pools", "set", "siloscope_duckdb", "1", "one DuckDB writer at a time")

        def start(name: str, argv: list[str], env: dict[str, str], cwd: Path) -> Service:
            started = Service(name, [AIRFLOW, *argv], cwd / f"{name}.log", env=env, cwd=cwd)
            stack.callback(started.stop)
            cluster.services.append(started)
            return started

        control = environment | {"AIRFLOW_HOME": str(root / "control")}
        start("api-server", ["api-server"], control, root / "control")
        start("scheduler", ["scheduler"], control, root / "control")
        start("dag-processor", ["dag-processor"], control, root / "control")
        for worker in workers:
            home, own = worker_folder(root, worker, config)
            cluster.workers[worker.hostname] = home
            argv = ["celery", "worker", "--queues", ",".join(worker.queues),
                    "--concurrency", str(worker.concurrency), "--skip-serve-logs",
                    "--celery-hostname", f"{worker.hostname}@localhost"]  # fmt: skip
            start(f"worker-{worker.hostname}", argv, environment | own, home)
        wait_until(
            lambda: port_open(api_port),
            STARTUP_TIMEOUT,
            "the api-server",
            root / "control" / "api-server.log",
            cluster.require_running,
        )
        yield cluster


def run_seconds(cluster: CeleryStack, run_id: str) -> float:
    """Wall time of a finished DAG run, from its first task's queueing to its end."""
    ((start, end),) = cluster.query(
        "select start_date, end_date from dag_run where run_id = %s", run_id
    )
    return (end - start).total_seconds()
