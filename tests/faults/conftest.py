"""The fault room: each test breaks the world on purpose (colliding names, a truncated
page, a poison record, a page too big, a missing account) and checks that nothing is lost
in silence. No network: the sources are in-process page lists."""

import duckdb
import pytest

from ingest.landing import LandingZone


@pytest.fixture
def landing(tmp_path):
    return LandingZone(str(tmp_path / "landing"))


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "test.duckdb"))
    yield connection
    connection.close()
