"""Shared by every room: Airflow must never touch ~/airflow or the repo's .airflow/; a
landing zone and a DuckDB file of the test's own."""

import os
import tempfile
from pathlib import Path

import duckdb
import pytest

from ingest.landing import LandingZone

REPO = Path(__file__).resolve().parents[1]

# Airflow reads its configuration once, on first import: set it before any test imports it.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="siloscope-airflow-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
for name in (
    "SILOSCOPE_CONFIG",
    "SILOSCOPE_DB",
    "SILOSCOPE_LANDING",
    "SILOSCOPE_PUBLISHED",
    "SILOSCOPE_REPORT",
):
    os.environ.pop(name, None)


@pytest.fixture
def landing(tmp_path):
    """A landing zone in the test's own folder."""
    return LandingZone(str(tmp_path / "landing"))


@pytest.fixture
def con(tmp_path):
    """A DuckDB file of the test's own, closed afterwards."""
    connection = duckdb.connect(str(tmp_path / "test.duckdb"))
    yield connection
    connection.close()
