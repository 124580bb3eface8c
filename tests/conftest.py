"""Shared by both rooms: Airflow must never touch ~/airflow or the repo's .airflow/."""

import os
import tempfile
from pathlib import Path

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
