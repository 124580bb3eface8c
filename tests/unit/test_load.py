"""The landing zone and the one DuckDB writer, on hand-written X API v2 pages."""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ingest.landing import LandingZone, extract_to_landing
from ingest.load import load_landing
from ingest.pages import ExtractRequest, ResponsePage

UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
REQUEST = ExtractRequest("x", "AcmeHelp", UNTIL, datetime(2026, 10, 1, tzinfo=UTC))
NEXT_NIGHT = replace(REQUEST, until=UNTIL + timedelta(days=1))


def post(post_id: str, author: str = "1", **extra) -> dict:
    return {
        "id": post_id,
        "text": f"post {post_id}",
        "author_id": author,
        "created_at": "2026-11-01T10:00:00.000Z",
        "conversation_id": "100",
        **extra,
    }


def page(*posts: dict) -> bytes:
    users = [
        {"id": "1", "username": "Customer", "name": "C"},
        {"id": "2", "username": "AcmeHelp", "name": "Acme Help"},
    ]
    return json.dumps(
        {"data": list(posts), "includes": {"users": users}, "meta": {"result_count": len(posts)}}
    ).encode()


class Pages:
    """A PageSource that serves fixed bodies, then optionally fails."""

    platform = "x"

    def __init__(self, *bodies: bytes, fail_with: Exception | None = None, newest: str = "0"):
        self.bodies, self.fail_with, self.newest = bodies, fail_with, newest

    def pages(self, request, result):
        for body in self.bodies:
            result.requests += 1
            yield ResponsePage("mentions", body)
        if self.fail_with:
            raise self.fail_with
        result.watermarks["mentions"] = self.newest


def count(con, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


def test_the_same_pages_loaded_twice_are_counted_once(con, landing):
    bodies = (page(post("101"), post("102")), page(post("102"), post("103")))
    extract_to_landing(Pages(*bodies), REQUEST, landing, "run-1", "test")
    first = load_landing(con, landing)
    # the next night lands the very same pages again
    extract_to_landing(Pages(*bodies), NEXT_NIGHT, landing, "run-2", "test")
    second = load_landing(con, landing)
    assert count(con, "raw.x_posts") == 3
    assert count(con, "(select distinct id from raw.x_posts)") == 3
    assert (first.records_loaded, first.records_duplicate) == (3, 1)
    assert (second.records_loaded, second.records_duplicate) == (0, 4)
    assert count(con, "raw.x_users") == 2


def test_loading_again_without_new_files_changes_nothing(con, landing):
    extract_to_landing(Pages(page(post("101"))), REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    snapshot = {t: count(con, t) for t in ("raw.x_posts", "ops.loaded_files", "ops.extract_runs")}
    report = load_landing(con, landing)
    assert report.files == 0
    assert {t: count(con, t) for t in snapshot} == snapshot


def test_a_bad_record_is_rejected_with_its_reason_and_the_rest_of_the_page_loads(con, landing):
    body = page(
        post("101"),
        post("102", created_at="yesterday"),
        {"id": "103", "text": "no author", "created_at": "2026-11-01T10:00:00.000Z"},
        post("104"),
    )
    extract_to_landing(Pages(body), REQUEST, landing, "run-1", "test")
    report = load_landing(con, landing)
    assert sorted(r[0] for r in con.execute("select id from raw.x_posts").fetchall()) == [
        "101",
        "104",
    ]
    rejects = con.execute(
        "select record_path, reason, record::json->>'id', account from ops.rejects order by 1"
    ).fetchall()
    assert rejects == [
        ("data[1]", "created_at is not a timestamp: yesterday", "102", "AcmeHelp"),
        ("data[2]", "missing author_id", "103", "AcmeHelp"),
    ]
    assert (report.records_loaded, report.records_rejected) == (2, 2)
    files = con.execute(
        "select records_received, records_loaded, records_rejected from ops.loaded_files"
    ).fetchall()
    assert files == [(4, 2, 2)]


def test_a_truncated_page_is_kept_whole_in_rejects_and_the_other_pages_load(con, landing):
    truncated = page(post("201"), post("202"))[:40]
    bodies = (page(post("101")), truncated, page(post("102")))
    extract_to_landing(Pages(*bodies), REQUEST, landing, "run-1", "test")
    report = load_landing(con, landing)
    assert count(con, "raw.x_posts") == 2
    reason, record, path = con.execute(
        "select reason, record, landing_file from ops.rejects"
    ).fetchone()
    assert "Malformed JSON" in reason
    assert record == truncated.decode()
    assert path.endswith("page-00002.json")
    assert report.pages_rejected == 1


def test_a_page_that_is_not_an_api_response_is_rejected(con, landing):
    extract_to_landing(
        Pages(b'["not", "a", "page"]', page(post("101"))), REQUEST, landing, "run-1", "test"
    )
    load_landing(con, landing)
    assert con.execute("select reason from ops.rejects").fetchall() == [
        ("page is not a JSON object",)
    ]
    assert count(con, "raw.x_posts") == 1


def test_watermarks_come_from_complete_runs_only(con, landing):
    extract_to_landing(Pages(page(post("101")), newest="101"), REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    failing = Pages(page(post("300")), fail_with=RuntimeError("HTTP 503"), newest="300")
    with pytest.raises(RuntimeError):
        extract_to_landing(failing, NEXT_NIGHT, landing, "run-2", "test")
    load_landing(con, landing)
    # what the failed run landed is loaded ...
    assert count(con, "raw.x_posts where id = '300'") == 1
    # ... but its newest-first pagination stopped early, so since_id must not move past the gap
    assert con.execute("select since_id from ops.watermarks").fetchall() == [("101",)]
    runs = con.execute(
        "select run_id, complete, error from ops.extract_runs order by run_id"
    ).fetchall()
    assert runs == [("run-1", True, None), ("run-2", False, "RuntimeError: HTTP 503")]


def test_running_a_night_again_adds_no_data_row_and_records_the_run(con, landing):
    bodies = (page(post("101")), page(post("102"), {"id": "bad"}))
    extract_to_landing(Pages(*bodies, newest="102"), REQUEST, landing, "manual__1", "test")
    load_landing(con, landing)
    data = ("raw.x_posts", "raw.x_users", "ops.watermarks")
    before = {t: count(con, t) for t in data}
    # triggered by hand again: a fresh run id, the same night, a folder of its own
    extract_to_landing(Pages(*bodies, newest="102"), REQUEST, landing, "manual__2", "test")
    load_landing(con, landing)
    assert {t: count(con, t) for t in data} == before
    runs = con.execute("select run_id from ops.extract_runs order by run_id").fetchall()
    assert runs == [("manual__1",), ("manual__2",)]
    assert con.execute("select run_id from ops.watermarks").fetchall() == [("manual__2",)]
    # each landed copy of the broken record is kept with its own landing file
    assert count(con, "ops.rejects") == 2
    assert count(con, "(select distinct landing_file from ops.rejects)") == 2


def test_a_retried_run_replaces_its_pages_and_loads_what_changed(con, landing):
    failing = Pages(page(post("101")), fail_with=RuntimeError("timeout"))
    with pytest.raises(RuntimeError):
        extract_to_landing(failing, REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    extract_to_landing(
        Pages(page(post("101")), page(post("102")), newest="102"), REQUEST, landing, "run-1", "test"
    )
    load_landing(con, landing)
    assert count(con, "raw.x_posts") == 2
    assert con.execute("select since_id from ops.watermarks").fetchall() == [("102",)]


class CountingPages(Pages):
    """Counts as a live source does, and hits the 800-post ceiling of mentions."""

    def pages(self, request, result):
        mentions = result.endpoint("mentions")
        for body in self.bodies:
            mentions.requests += 1
            mentions.pages += 1
            mentions.posts += len(json.loads(body)["data"])
            yield ResponsePage("mentions", body)
        mentions.rate_limited, mentions.billable_reads = 1, 7
        result.requests = mentions.requests + 1
        result.endpoint("threads").requests = 1
        result.ceilings += ["mentions: the API serves only the 800 newest posts", "an odd limit"]
        if self.fail_with:
            raise self.fail_with
        result.watermarks["mentions"] = self.newest


def test_each_endpoints_counts_and_ceilings_are_recorded_per_run(con, landing):
    first = CountingPages(page(post("101"), post("102")), page(post("103")), newest="103")
    extract_to_landing(first, REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    failing = CountingPages(page(post("104")), fail_with=RuntimeError("HTTP 503"), newest="104")
    with pytest.raises(RuntimeError):
        extract_to_landing(
            failing, replace(NEXT_NIGHT, since_ids={"mentions": "103"}), landing, "run-2", "test"
        )
    load_landing(con, landing)
    rows = con.execute(
        "select run_id, endpoint, since_id, watermark, requests, pages, posts, rate_limited, "
        "billable_reads, ceilings from ops.extract_endpoints order by run_id, endpoint"
    ).fetchall()
    ceiling = ["mentions: the API serves only the 800 newest posts"]
    assert rows == [
        ("run-1", "mentions", None, "103", 2, 2, 3, 1, 7, ceiling),
        ("run-1", "threads", None, None, 1, 0, 0, 0, 0, []),
        # the failed run started from since_id 103 and reached no watermark
        ("run-2", "mentions", "103", None, 1, 1, 1, 1, 7, ceiling),
        ("run-2", "threads", None, None, 1, 0, 0, 0, 0, []),
    ]
    # the run keeps every ceiling, also one that names no endpoint
    assert con.execute("select ceilings from ops.extract_runs where run_id = 'run-1'").fetchone()[
        0
    ] == [*ceiling, "an odd limit"]
    # the same night again is a run of its own, beside the first
    extract_to_landing(first, REQUEST, landing, "run-3", "test")
    load_landing(con, landing)
    assert count(con, "ops.extract_endpoints where run_id = 'run-1'") == 2
    assert count(con, "ops.extract_endpoints where run_id = 'run-3'") == 2


def test_pages_are_written_whole_and_listed_in_the_manifest(landing):
    bodies = (page(post("101")), page(post("102")))
    manifest = extract_to_landing(
        Pages(*bodies), REQUEST, landing, "manual__2026-11-02T00:00:00+00:00", "test"
    )
    [manifest_path] = landing.manifest_paths()
    run_dir = manifest_path.rsplit("/", 1)[0]
    assert re.search(
        r"/x/AcmeHelp/dt=2026-11-02/run=20261102T000000Z_[0-9TZ]{16}_[0-9a-f]{8}$", run_dir
    )
    assert [landing.read(f"{run_dir}/{p.file}") for p in manifest.pages] == list(bodies)
    assert not [p for p in landing.fs.ls(run_dir) if str(p).endswith(".tmp")]
    assert manifest.complete and manifest.requests == 2


def test_the_landing_zone_can_live_in_object_storage(con):
    # fsspec's in-memory filesystem stands in for s3:// or gs://: nothing may assume a local path
    zone = LandingZone("memory://siloscope-test/landing")
    extract_to_landing(Pages(page(post("101"), post("102"))), REQUEST, zone, "run-1", "test")
    report = load_landing(con, zone)
    assert report.records_loaded == 2
    assert (
        con.execute("select min(landing_file) from raw.x_posts")
        .fetchone()[0]
        .startswith("memory://")
    )
