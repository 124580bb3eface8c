"""docker/ checked without Docker: this machine has no engine, so nothing here builds or
starts a container. The files are parsed and held against the repository instead: the
services, the image pins against pyproject.toml, every path the build and the mounts
name, the DuckDB pool, and the absence of secrets.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
DAG_FILE = REPO / "dags" / "siloscope_nightly.py"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}
DUCKDB_POOL = "siloscope_duckdb"
# Bind-mount sources that do not exist in a fresh checkout; Docker creates them on `up`.
CREATED_AT_RUN_TIME = {"data"}
# Each Airflow service sees the DAGs, the config and the data folder at these places.
REQUIRED_MOUNTS = {
    "dags": "/opt/airflow/dags",
    "config": "/opt/siloscope/config",
    "data": "/opt/siloscope/data",
}

SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|FERNET|JWT|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE
)
URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://([^:/@\s]+):([^@\s]*)@")
UNRESOLVED_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?-)?\}")
OFFICIAL_PINNED_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._-]*:\d+(\.\d+)*(-[a-z0-9.]+)?$")
AIRFLOW_IMAGE = re.compile(
    r"^apache/airflow:(?P<airflow>\d+\.\d+\.\d+)-python(?P<python>\d+\.\d+)$"
)


# --- reading the files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    # safe_load resolves the x-airflow-common anchor and its `<<:` merges.
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def build_context(services) -> Path:
    return (COMPOSE_FILE.parent / services["airflow-scheduler"]["build"]["context"]).resolve()


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line: continuations joined, comments dropped."""
    logical, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    parsed = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        parsed.append((keyword.upper(), arguments.strip()))
    return parsed


def copy_sources(instructions) -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY that reads the build context (not --from)."""
    copies = []
    for keyword, arguments in instructions:
        if keyword not in ("COPY", "ADD"):
            continue
        words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
        flags = [word for word in words if word.startswith("--")]
        paths = [word for word in words if not word.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue
        copies.append((paths[:-1], paths[-1]))
    return copies


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host source as written, container target) of each bind mount; named volumes skipped."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
            continue
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/", "~")):
            mounts.append((source, target))
    return mounts


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def all_strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in all_strings(key) + all_strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in all_strings(item)]
    return [node] if isinstance(node, str) else []


def ignore_patterns() -> list[str]:
    path = DOCKERFILE.with_name(DOCKERFILE.name + ".dockerignore")
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Close enough to .dockerignore for a guard: a pattern excludes a path or any parent;
    "**/" matches at any depth. Exceptions ("!") are not used in this repository."""
    parts = PurePosixPath(path).parts
    prefixes = [parts[:end] for end in range(1, len(parts) + 1)]
    for pattern in patterns:
        assert not pattern.startswith("!"), "is_ignored() does not model '!' exceptions"
        pattern = pattern.strip("/")
        for prefix in prefixes:
            if pattern.startswith("**/"):
                tails = ("/".join(prefix[start:]) for start in range(len(prefix)))
                if any(fnmatch(tail, pattern[3:]) for tail in tails):
                    return True
            elif fnmatch("/".join(prefix), pattern):
                return True
    return False


def airflow_requirement() -> Requirement:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    for dependency in pyproject["project"]["dependencies"]:
        requirement = Requirement(dependency)
        if requirement.name == "apache-airflow":
            return requirement
    raise AssertionError("pyproject.toml does not depend on apache-airflow")


# --- compose: services, images, build ----------------------------------------------------


def test_compose_defines_postgres_and_the_five_airflow_services(services):
    missing = (AIRFLOW_SERVICES | {"postgres"}) - set(services)
    assert not missing, f"compose.yaml lacks {sorted(missing)}"


def test_every_service_runs_the_built_image_or_a_pinned_official_one(services):
    assert re.fullmatch(r"postgres:\d+", services["postgres"]["image"]), (
        "the metadata DB is the official postgres image pinned to a major version"
    )
    for name, service in services.items():
        if name in AIRFLOW_SERVICES:
            assert "build" in service, f"{name} must run the image built from docker/Dockerfile"
        else:
            assert "build" not in service, f"{name} builds an image nobody reviewed"
            assert OFFICIAL_PINNED_IMAGE.match(service.get("image", "")), (
                f"{name}: {service.get('image')!r} is not an official image with a version tag"
            )


def test_build_context_and_dockerfile_resolve_to_this_repository(services, build_context):
    builds = {json.dumps(services[name]["build"], sort_keys=True) for name in AIRFLOW_SERVICES}
    assert len(builds) == 1, "all Airflow services must build the same image"
    dockerfile = build_context / services["airflow-scheduler"]["build"]["dockerfile"]
    assert build_context == REPO, "the Dockerfile's COPY lines assume the repo root as context"
    assert dockerfile.resolve() == DOCKERFILE, f"{dockerfile} is not docker/Dockerfile"
    assert DOCKERFILE.is_file()


def test_bind_mounts_exist_except_data_which_docker_creates(services):
    not_yet_there = set()
    for name, service in services.items():
        for source, _target in bind_mounts(service):
            host = (COMPOSE_FILE.parent / source).resolve()
            assert host.is_relative_to(REPO), f"{name} mounts {source}, outside the repository"
            if not host.exists():
                not_yet_there.add(host.relative_to(REPO).as_posix())
    assert not_yet_there <= CREATED_AT_RUN_TIME, (
        f"bind-mount sources missing from the repository: {sorted(not_yet_there)}"
    )


def test_every_airflow_service_mounts_dags_config_and_data(services):
    for name in AIRFLOW_SERVICES:
        mounted = {
            (COMPOSE_FILE.parent / source).resolve().relative_to(REPO).as_posix(): target
            for source, target in bind_mounts(services[name])
        }
        for folder, target in REQUIRED_MOUNTS.items():
            assert mounted.get(folder) == target, f"{name}: ../{folder} must be at {target}"


def test_siloscope_settings_point_into_the_mounted_folders(services):
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        config = PurePosixPath(env["SILOSCOPE_CONFIG"])
        config_mount = PurePosixPath(REQUIRED_MOUNTS["config"])
        assert config.is_relative_to(config_mount), f"{name}: SILOSCOPE_CONFIG is not mounted"
        assert (REPO / "config" / config.relative_to(config_mount)).is_file(), (
            f"{name}: SILOSCOPE_CONFIG names {config}, which the config/ folder does not hold"
        )
        for variable in ("SILOSCOPE_DB", "SILOSCOPE_LANDING"):
            assert PurePosixPath(env[variable]).is_relative_to(REQUIRED_MOUNTS["data"]), (
                f"{name}: {variable} would be lost with the container"
            )


# --- compose: Airflow settings -----------------------------------------------------------


def test_airflow_runs_the_local_executor_against_postgres(services):
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor", name
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false", name
        conn = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
        assert re.match(r"postgresql(\+\w+)?://[^@]+@postgres[:/]", conn), (
            f"{name}: the metadata DB must be the postgres service"
        )


def test_tasks_reach_the_execution_api_on_the_api_server(services):
    apiserver = services["airflow-apiserver"]
    assert command_text(apiserver) == "api-server"
    assert any(str(port).endswith(":8080") for port in apiserver.get("ports", []))
    for name in AIRFLOW_SERVICES:
        url = environment(services[name]).get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "")
        assert url == "http://airflow-apiserver:8080/execution/", f"{name}: {url!r}"


def test_services_wait_for_a_healthy_postgres_and_a_finished_init(services):
    assert "healthcheck" in services["postgres"], "service_healthy needs a healthcheck"
    for name in AIRFLOW_SERVICES:
        depends_on = services[name].get("depends_on", {})
        assert depends_on.get("postgres", {}).get("condition") == "service_healthy", name
        if name != "airflow-init":
            assert (
                depends_on.get("airflow-init", {}).get("condition")
                == "service_completed_successfully"
            ), name
    assert "airflow-init" not in services["airflow-init"].get("depends_on", {})


def test_init_migrates_the_db_and_creates_the_one_slot_duckdb_pool(services):
    script = command_text(services["airflow-init"])
    assert "airflow db migrate" in script
    assert re.search(rf"airflow pools set {DUCKDB_POOL} 1\b", script), (
        f"airflow-init must create the {DUCKDB_POOL} pool with exactly one slot"
    )


def test_the_pool_created_is_the_pool_the_dag_uses():
    if not DAG_FILE.exists():
        pytest.skip(f"{DAG_FILE.relative_to(REPO)} is not written yet")
    assert f'"{DUCKDB_POOL}"' in DAG_FILE.read_text(), f"the DAG no longer names {DUCKDB_POOL}"


# --- Dockerfile --------------------------------------------------------------------------


def test_base_image_is_official_airflow_matching_the_pyproject_pin(instructions):
    base = [arguments.split()[-1] for keyword, arguments in instructions if keyword == "FROM"][-1]
    match = AIRFLOW_IMAGE.match(base)
    assert match, f"{base!r} is not apache/airflow:<x.y.z>-python<x.y>"
    image_airflow = Version(match["airflow"])
    requirement = airflow_requirement()
    pinned = [Version(spec.version) for spec in requirement.specifier if spec.operator == "=="]
    assert pinned, "pyproject.toml must pin apache-airflow with =="
    assert image_airflow.release[:2] == pinned[0].release[:2], (
        f"image has Airflow {image_airflow}, pyproject pins {pinned[0]}"
    )
    # pip installs the project, which requires the pin, next to the image's Airflow.
    assert requirement.specifier.contains(image_airflow), (
        f"pip would refuse: the project requires {requirement}, the image has {image_airflow}"
    )
    requires_python = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "requires-python"
    ]
    assert SpecifierSet(requires_python).contains(Version(match["python"])), (
        f"python{match['python']} is outside requires-python {requires_python}"
    )


def test_every_copy_source_exists_in_the_build_context(instructions, build_context):
    copies = copy_sources(instructions)
    assert copies, "the Dockerfile copies nothing from the repository"
    for sources, _ in copies:
        for source in sources:
            assert list(build_context.glob(source)), f"COPY {source}: not in {build_context}"


def test_no_copy_source_is_excluded_by_the_dockerignore(instructions, build_context):
    patterns = ignore_patterns()
    for sources, _ in copy_sources(instructions):
        for source in sources:
            assert not is_ignored(source, patterns), f"COPY {source} is dockerignored"
            # and what they carry: modules, SQL models (package data), YAML config
            for path in (build_context / source).rglob("*"):
                relative = path.relative_to(build_context).as_posix()
                if (
                    path.suffix in {".py", ".sql", ".yaml", ".toml"}
                    and "__pycache__" not in relative
                ):
                    assert not is_ignored(relative, patterns), f"{relative} is dockerignored"


def test_the_dockerignore_keeps_local_state_out_of_the_context():
    patterns = ignore_patterns()
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        "data/siloscope.duckdb",
        "siloscope/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/README.md",
    ):
        assert is_ignored(path, patterns), f"{path} would be sent to the Docker daemon"


def test_the_project_and_config_are_installed_with_airflow_pinned(instructions):
    copies = copy_sources(instructions)
    project_dir = next(dest for sources, dest in copies if "pyproject.toml" in sources)
    assert any("config" in sources for sources, _ in copies), "config/ is not in the image"
    installs = [
        shlex.split(arguments)
        for keyword, arguments in instructions
        if keyword == "RUN" and "pip install" in arguments
    ]
    assert installs, "the Dockerfile installs nothing"
    project_install = [
        words
        for words in installs
        if project_dir.rstrip("/") in (word.rstrip("/") for word in words)
    ]
    assert project_install, f"no pip install of {project_dir}"
    words = project_install[0]
    assert "apache-airflow==${AIRFLOW_VERSION}" in words, (
        "pin Airflow in the same pip call, or pip may move it (docker-stack 'extending')"
    )
    assert not {"-e", "--editable"} & set(words), "the image installs the project, not a link"


# --- secrets -----------------------------------------------------------------------------


def test_the_only_password_is_the_marked_local_postgres_one(services):
    dev_password = environment(services["postgres"])["POSTGRES_PASSWORD"]
    marked = [
        line
        for line in COMPOSE_FILE.read_text().splitlines()
        if re.match(r"\s*POSTGRES_PASSWORD:", line)
    ]
    assert marked and all("local-only" in line for line in marked), (
        "mark the postgres dev password `# local-only` where it is set"
    )
    assert "ports" not in services["postgres"], "a dev password is only fine on an unpublished DB"
    for name, service in services.items():
        for key, value in environment(service).items():
            if not SECRET_NAME.search(key) or (name == "postgres" and key == "POSTGRES_PASSWORD"):
                continue
            assert value == "" or UNRESOLVED_REFERENCE.fullmatch(value), (
                f"{name}: {key} has a literal value; secrets are generated or supplied at run time"
            )
        for text in all_strings(service):
            for _user, password in URL_CREDENTIALS.findall(text):
                assert password == dev_password, f"{name}: a URL carries a password: {text!r}"


def test_no_credentials_are_baked_in_or_look_like_tokens(instructions):
    for keyword, arguments in instructions:
        if keyword in ("ENV", "ARG"):
            assert not SECRET_NAME.search(arguments), f"{keyword} {arguments}: no secrets in images"
    for path in (COMPOSE_FILE, DOCKERFILE, DOCKER / "README.md"):
        text = path.read_text()
        if path != DOCKER / "README.md":
            assert "connections add" not in text, f"{path.name}: connections are added at run time"
        # API tokens, fernet keys and JWT secrets are long runs mixing cases and digits.
        for run in re.findall(r"[A-Za-z0-9+/=_%-]{24,}", text):
            looks_random = all(re.search(cls, run) for cls in ("[a-z]", "[A-Z]", "[0-9]"))
            assert not looks_random, f"{path.name}: {run[:8]}... looks like a secret"


def test_the_readme_adds_connections_with_placeholders_only():
    readme = (DOCKER / "README.md").read_text()
    for connection in ("x_default", "reddit_default"):
        assert f"airflow connections add {connection}" in readme
    values = re.findall(r"--conn-(?:password|login)\s+(\S+)", readme)
    assert values
    for value in values:
        assert re.fullmatch(r"""(["']?)(\$\w+|<[^>]+>)\1""", value), (
            f"--conn-... {value}: use a shell variable or a <placeholder>"
        )
