"""docker/compose.celery.yaml checked without Docker, as test_docker_files.py checks the
LocalExecutor stack: Celery with Redis and Postgres, exactly one writer worker holding the
data volume and serving the writer queue, extract workers on the general queue only, the
landing zone in S3 (MinIO), and no secret written down."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.unit.test_docker_files import AIRFLOW_SERVICES as LOCAL_EXECUTOR_SERVICES
from tests.unit.test_docker_files import (
    DAG_FILE,
    DOCKERFILE,
    DUCKDB_POOL,
    OFFICIAL_PINNED_IMAGE,
    REPO,
    REQUIRED_MOUNTS,
    SECRET_NAME,
    UNRESOLVED_REFERENCE,
    URL_CREDENTIALS,
    all_strings,
    bind_mounts,
    command_text,
    environment,
)

CELERY_COMPOSE = REPO / "docker" / "compose.celery.yaml"
WRITER = "airflow-worker-writer"
EXTRACT = "airflow-worker-extract"
AIRFLOW_SERVICES = LOCAL_EXECUTOR_SERVICES | {WRITER, EXTRACT}
GENERAL_QUEUE = "default"
# A pinned tag of an official image (postgres:16, redis:7.2-bookworm) or a vendor's release
# tag (minio/minio:RELEASE.<date>); never "latest" or none.
VENDOR_RELEASE = re.compile(r"^[a-z0-9]+/[a-z0-9]+:RELEASE\.[0-9TZ-]+$")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(CELERY_COMPOSE.read_text())["services"]


def mounted(service: dict) -> dict[str, str]:
    """Repository folder -> container path of each bind mount."""
    return {
        (CELERY_COMPOSE.parent / source).resolve().relative_to(REPO).as_posix(): target
        for source, target in bind_mounts(service)
    }


def worker_queues(service: dict) -> set[str]:
    words = command_text(service).split()
    assert words[:2] == ["celery", "worker"], f"{command_text(service)!r} is not a worker"
    return set(words[words.index("--queues") + 1].split(","))


def test_the_stack_has_redis_postgres_s3_airflow_and_both_kinds_of_worker(services):
    missing = (AIRFLOW_SERVICES | {"postgres", "redis", "minio"}) - set(services)
    assert not missing, f"compose.celery.yaml lacks {sorted(missing)}"
    workers = {name for name, s in services.items() if "celery worker" in command_text(s)}
    assert workers == {WRITER, EXTRACT}


def test_airflow_services_build_one_image_and_the_others_are_pinned(services):
    builds = {str(services[name]["build"]) for name in AIRFLOW_SERVICES}
    assert len(builds) == 1
    build = services["airflow-scheduler"]["build"]
    assert (CELERY_COMPOSE.parent / build["context"]).resolve() == REPO
    assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE
    for name in set(services) - AIRFLOW_SERVICES:
        image = services[name].get("image", "")
        assert "build" not in services[name], name
        assert OFFICIAL_PINNED_IMAGE.match(image) or VENDOR_RELEASE.match(image), (
            f"{name}: {image!r} is not pinned to a release"
        )


def test_celery_runs_on_redis_with_postgres_for_metadata_and_results(services):
    assert "healthcheck" in services["redis"] and "healthcheck" in services["postgres"]
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert re.match(r"redis://redis:6379/\d+$", env["AIRFLOW__CELERY__BROKER_URL"]), name
        assert re.match(
            r"db\+postgresql(\+\w+)?://[^@]+@postgres/", env["AIRFLOW__CELERY__RESULT_BACKEND"]
        )
        assert re.match(
            r"postgresql(\+\w+)?://[^@]+@postgres[:/]", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        ), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        if name != "airflow-init":
            depends_on = services[name]["depends_on"]
            for needed in ("redis", "postgres"):
                assert depends_on[needed]["condition"] == "service_healthy", (name, needed)
            assert depends_on["airflow-init"]["condition"] == "service_completed_successfully"


def test_only_the_writer_serves_the_writer_queue_and_every_parser_agrees_on_it(services):
    queues = {environment(services[name])["SILOSCOPE_WRITER_QUEUE"] for name in AIRFLOW_SERVICES}
    assert len(queues) == 1, f"the DAG is parsed with different writer queues: {queues}"
    writer_queue = queues.pop()
    assert writer_queue != GENERAL_QUEUE, "the writer queue must be one the extract workers skip"
    assert worker_queues(services[WRITER]) == {writer_queue, GENERAL_QUEUE}
    assert worker_queues(services[EXTRACT]) == {GENERAL_QUEUE}
    assert services[WRITER].get("deploy", {}).get("replicas", 1) == 1, "DuckDB has one writer"
    assert "SILOSCOPE_WRITER_QUEUE" in DAG_FILE.read_text()


def test_only_the_writer_has_the_data_volume_and_the_database_is_on_it(services):
    data = REQUIRED_MOUNTS["data"]
    for name in AIRFLOW_SERVICES:
        mounts = mounted(services[name])
        assert mounts.get("dags") == REQUIRED_MOUNTS["dags"], name
        assert mounts.get("config") == REQUIRED_MOUNTS["config"], name
        if name == WRITER:
            assert mounts.get("data") == data
        else:
            assert "data" not in mounts, f"{name} mounts the writer's data folder"
    db = PurePosixPath(environment(services[WRITER])["SILOSCOPE_DB"])
    assert db.is_relative_to(data), "the DuckDB file would be lost with the writer container"
    config = PurePosixPath(environment(services[WRITER])["SILOSCOPE_CONFIG"])
    assert (REPO / "config" / config.relative_to(REQUIRED_MOUNTS["config"])).is_file()


def test_every_worker_lands_in_the_s3_bucket_the_init_creates(services):
    landings = {environment(services[name])["SILOSCOPE_LANDING"] for name in AIRFLOW_SERVICES}
    assert len(landings) == 1
    landing = landings.pop()
    match = re.fullmatch(r"s3://([a-z0-9.-]+)(/.*)?", landing)
    assert match, f"SILOSCOPE_LANDING={landing!r} is not in object storage"
    for name in AIRFLOW_SERVICES:
        assert environment(services[name])["AWS_ENDPOINT_URL"] == "http://minio:9000", name
    init = command_text(services["airflow-init"])
    assert f"mkdir('{match[1]}')" in init, "airflow-init does not create the landing bucket"


def test_init_migrates_and_creates_the_one_slot_pool_the_dag_uses(services):
    init = command_text(services["airflow-init"])
    assert "airflow db migrate" in init
    assert re.search(rf"airflow pools set {DUCKDB_POOL} 1\b", init)
    assert f'"{DUCKDB_POOL}"' in DAG_FILE.read_text()


def test_no_secret_is_written_down(services):
    marked = [
        line for line in CELERY_COMPOSE.read_text().splitlines() if "airflow:airflow@" in line
    ]
    assert marked and all("local-only" in line for line in marked)
    assert "ports" not in services["postgres"] and "ports" not in services["minio"]
    for name, service in services.items():
        for key, value in environment(service).items():
            if not SECRET_NAME.search(key) or key == "POSTGRES_PASSWORD":
                continue
            assert UNRESOLVED_REFERENCE.fullmatch(value), (
                f"{name}: {key} has a literal value; supply it from the environment"
            )
        for text in all_strings(service):
            for _user, password in URL_CREDENTIALS.findall(text):
                assert password == "airflow", f"{name}: a URL carries a password: {text!r}"
    for run in re.findall(r"[A-Za-z0-9+/=_%-]{24,}", CELERY_COMPOSE.read_text()):
        looks_random = all(re.search(cls, run) for cls in ("[a-z]", "[A-Z]", "[0-9]"))
        assert not looks_random, f"{run[:8]}... looks like a secret"


def test_the_docker_readme_explains_the_celery_stack():
    readme = Path(REPO / "docker" / "README.md").read_text()
    assert "compose.celery.yaml" in readme
    assert "--scale airflow-worker-extract" in readme
