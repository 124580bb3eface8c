"""The landing zone in S3 (moto's standalone server on 127.0.0.1, reached by the real s3fs
client): a night extracts into the bucket and loads from it, pages are put once under their
final names, and credentials from an Airflow Connection reach the client and nothing else."""

from __future__ import annotations

import json
import logging
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from siloscope.landing_storage import LANDING_CONN_ID_VARIABLE
from siloscope.pipeline import run_all
from siloscope.settings import Settings
from tests.integration.services import moto_s3
from tests.marts_fixture import all_mart_rows

REPO = Path(__file__).resolve().parents[2]
NIGHT = datetime(2026, 11, 1, tzinfo=UTC)
BUCKET = "siloscope-landing"
SECRET_KEY = "landing-secret-never-logged-7f3a9c"
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
)
# werkzeug's access log line in moto_server's output: "PUT /bucket/key HTTP/1.1" 200
REQUEST_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (/\S*) HTTP/1\.1"')


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    with moto_s3(tmp_path_factory.mktemp("moto")) as (endpoint, log):
        yield endpoint, log


@pytest.fixture
def s3_from_environment(s3_server, monkeypatch):
    """Credentials and endpoint in the environment, as the AWS SDKs read them; a bucket of
    the test's own."""
    endpoint, log = s3_server
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "siloscope-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return _fresh_bucket(endpoint), log


def _fresh_bucket(endpoint: str) -> str:
    import s3fs

    fs = s3fs.S3FileSystem(
        key="siloscope-test", secret=SECRET_KEY, endpoint_url=endpoint, skip_instance_cache=True
    )
    if fs.exists(BUCKET):
        fs.rm(BUCKET, recursive=True)
    fs.mkdir(BUCKET)
    return f"s3://{BUCKET}/landing"


def settings_for(folder: Path, landing: str | None = None) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "acme.yaml"
    shutil.copy(REPO / "config" / "acme.yaml", config)
    return Settings.resolve(config, folder / "siloscope.duckdb", landing)


def landed_objects(settings: Settings) -> list[str]:
    zone = settings.landing_zone()
    return sorted(zone.fs.find(settings.landing_root))


def test_a_night_lands_in_the_bucket_loads_from_it_and_builds_the_same_marts(
    s3_from_environment, tmp_path
):
    landing, _log = s3_from_environment
    in_s3 = settings_for(tmp_path / "s3", landing)
    on_disk = settings_for(tmp_path / "disk")
    run_all(in_s3, "cli__2026-11-01", NIGHT)
    run_all(on_disk, "cli__2026-11-01", NIGHT)

    objects = landed_objects(in_s3)
    assert len([o for o in objects if o.endswith("/_manifest.json")]) == 5  # one per account
    assert any(o.endswith("/page-00001.json") for o in objects)
    assert not (tmp_path / "s3" / "landing").exists(), "pages went to local disk"
    with duckdb.connect(str(in_s3.db_path), read_only=True) as con:
        files = con.execute("select landing_file from ops.loaded_files").fetchall()
    assert files and all(f.startswith(f"s3://{BUCKET}/landing/") for (f,) in files)
    assert all_mart_rows(in_s3.db_path) == all_mart_rows(on_disk.db_path)
    assert all_mart_rows(in_s3.db_path)["org_verdict"], "no verdict was built"


def test_pages_are_put_once_under_their_final_names_never_copied(s3_from_environment, tmp_path):
    # A temp-then-rename on S3 is PUT temp, copy, DELETE: the temp objects would be listed
    # (and loaded) by a load running meanwhile, and left behind by a crash.
    landing, log = s3_from_environment
    settings = settings_for(tmp_path, landing)
    before = len(log.read_text().splitlines())
    run_all(settings, "cli__2026-11-01", NIGHT)
    requests = [
        REQUEST_LINE.search(line).groups()
        for line in log.read_text().splitlines()[before:]
        if REQUEST_LINE.search(line)
    ]
    writes = [path for method, path in requests if method in ("PUT", "POST")]
    deletes = [path for method, path in requests if method == "DELETE"]
    assert not [path for path in writes if ".tmp" in path], "temporary objects were written"
    assert not deletes, f"objects were deleted on a first night: {deletes[:3]}"
    page_puts = [path for path in writes if re.search(r"/page-\d+\.json$", path)]
    pages = [o for o in landed_objects(settings) if re.search(r"/page-\d+\.json$", o)]
    assert sorted(page_puts) == sorted(f"/{o}" for o in pages), "each page is one PUT"


def test_credentials_come_from_the_airflow_connection_and_are_never_logged(
    s3_server, tmp_path, monkeypatch, caplog
):
    endpoint, _log = s3_server
    landing = _fresh_bucket(endpoint)
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Without the Connection's endpoint, s3fs would go to AWS and fail: no network here.
    connection = {
        "conn_type": "aws",
        "login": "siloscope-test",
        "password": SECRET_KEY,
        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SILOSCOPE_LANDING", json.dumps(connection))
    monkeypatch.setenv(LANDING_CONN_ID_VARIABLE, "siloscope_landing")
    settings = settings_for(tmp_path, landing)
    caplog.set_level(logging.DEBUG)

    run_all(settings, "cli__2026-11-01", NIGHT)

    assert settings.landing_zone().fs.secret == SECRET_KEY
    assert any(o.endswith("/_manifest.json") for o in landed_objects(settings))
    assert SECRET_KEY not in caplog.text
    zone = settings.landing_zone()
    for path in zone.manifest_paths():
        assert SECRET_KEY.encode() not in zone.read(path)
    assert SECRET_KEY.encode() not in settings.db_path.read_bytes()
