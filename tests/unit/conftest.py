"""The unit room: no network at all, not even loopback (integration tests have that)."""

import socket

import duckdb
import pytest

from ingest.landing import LandingZone


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkBlocked("unit tests cannot reach the network; move this to tests/integration")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


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
