"""Two extracts of the same night overlapping (a cron job and a person, a retry beside a
slow run): neither may delete or overwrite the other's pages, and the night loads and
reconciles as if it had run once."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import duckdb
import pytest

from ingest.landing import LandingZone, Manifest, extract_to_landing
from ingest.load import load_landing
from ingest.pages import ExtractRequest, ResponsePage
from ingest.reconcile import reconcile_runs

UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
REQUEST = ExtractRequest("x", "AcmeHelp", UNTIL, datetime(2026, 10, 1, tzinfo=UTC))


def page(*post_ids: str) -> bytes:
    posts = [
        {
            "id": post_id,
            "text": f"post {post_id}",
            "author_id": "1",
            "created_at": "2026-11-01T10:00:00.000Z",
            "conversation_id": "100",
        }
        for post_id in post_ids
    ]
    users = [{"id": "1", "username": "Customer", "name": "C"}]
    return json.dumps({"data": posts, "includes": {"users": users}}).encode()


class Pages:
    """A PageSource serving fixed bodies; `between` runs after the first page landed."""

    platform = "x"

    def __init__(self, *bodies: bytes, between=None):
        self.bodies, self.between = bodies, between

    def pages(self, request, result):
        for number, body in enumerate(self.bodies):
            result.requests += 1
            yield ResponsePage("mentions", body)
            if number == 0 and self.between:
                self.between()
        result.watermarks["mentions"] = "103"


@pytest.fixture
def landing(tmp_path):
    return LandingZone(str(tmp_path / "landing"))


def _landed(landing: LandingZone) -> list[Manifest]:
    return [Manifest.from_json(landing.read(path)) for path in landing.manifest_paths()]


def test_a_second_run_of_the_night_during_the_first_deletes_none_of_its_pages(landing, tmp_path):
    bodies = (page("101", "102"), page("103"))

    def second_run():
        extract_to_landing(Pages(*bodies), REQUEST, landing, "manual__second", "test")

    extract_to_landing(Pages(*bodies, between=second_run), REQUEST, landing, "first", "test")

    manifests = landing.manifest_paths()
    assert sorted(m.run_id for m in _landed(landing)) == ["first", "manual__second"]
    for path in manifests:
        manifest = Manifest.from_json(landing.read(path))
        run_dir = path.rsplit("/", 1)[0]
        for listed in manifest.pages:
            body = landing.read(f"{run_dir}/{listed.file}")
            assert hashlib.sha256(body).hexdigest() == listed.sha256

    with duckdb.connect(str(tmp_path / "siloscope.duckdb")) as con:
        load_landing(con, landing)
        results = reconcile_runs(con, landing, UNTIL)
        assert con.execute("select count(*) from raw.x_posts").fetchone()[0] == 3
    assert len(results) == 2 and all(r.balanced for r in results)
    assert sum(r.records_loaded for r in results) == 3
    assert sum(r.records_duplicate for r in results) == 3


def test_running_the_night_again_changes_no_raw_row_and_still_balances(landing, tmp_path):
    bodies = (page("101", "102"), page("103"))
    with duckdb.connect(str(tmp_path / "siloscope.duckdb")) as con:
        extract_to_landing(Pages(*bodies), REQUEST, landing, "first", "test")
        load_landing(con, landing)
        reconcile_runs(con, landing, UNTIL)
        before = con.execute("select count(*) from raw.x_posts").fetchone()[0]

        extract_to_landing(Pages(*bodies), REQUEST, landing, "again", "test")
        load_landing(con, landing)
        results = reconcile_runs(con, landing, UNTIL)

        assert con.execute("select count(*) from raw.x_posts").fetchone()[0] == before == 3
        assert [r.balanced for r in results] == [True, True]
        watermark = con.execute("select since_id, run_id from ops.watermarks").fetchall()
        assert watermark == [("103", "again")]
