"""The integration room: local fake APIs on 127.0.0.1, real DuckDB files, dag.test()."""

import pytest


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh Airflow metadata database (SQLite in the session's AIRFLOW_HOME)."""
    from airflow.utils.db import resetdb

    resetdb(skip_init=False)
    yield
