"""Reconciliation: fetched (counted on the landed pages) = loaded + rejected + duplicates."""

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.formats import x_api_v2
from ingest.landing import LandingZone, extract_to_landing
from ingest.load import load_landing
from ingest.pages import ExtractRequest, ResponsePage
from ingest.reconcile import ReconciliationFailed, reconcile_runs
from siloscope.cli import main

REPO = Path(__file__).resolve().parents[2]
UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
REQUEST = ExtractRequest("x", "AcmeHelp", UNTIL, datetime(2026, 10, 1, tzinfo=UTC))


def post(post_id: str, **fields) -> dict:
    record = {
        "id": post_id,
        "text": f"post {post_id}",
        "author_id": "1",
        "created_at": "2026-11-01T10:00:00.000Z",
        "conversation_id": "100",
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def page(*posts: dict, **sections) -> bytes:
    users = [{"id": "1", "username": "Customer", "name": "C"}]
    return json.dumps({"data": list(posts), "includes": {"users": users}, **sections}).encode()


class Pages:
    """Serves fixed bodies; `counted`: the posts the source says it served, if it counts."""

    platform = "x"

    def __init__(self, *bodies: bytes, counted: int | None = None, fail_with=None):
        self.bodies, self.counted, self.fail_with = bodies, counted, fail_with

    def pages(self, request, result):
        for body in self.bodies:
            result.requests += 1
            yield ResponsePage("mentions", body)
        if self.fail_with:
            raise self.fail_with
        if self.counted is not None:
            result.endpoint("mentions").posts = self.counted


def drop_first_record(monkeypatch) -> None:
    """A loader bug: the first record of the first page vanishes before it is counted."""
    assert "from all_records;" in x_api_v2.RECORDS_SQL
    monkeypatch.setattr(
        x_api_v2,
        "RECORDS_SQL",
        x_api_v2.RECORDS_SQL.replace(
            "from all_records;",
            "from all_records where not (url = (select min(url) from all_records) "
            "and record_path = 'data[0]');",
        ),
    )


def test_every_record_is_loaded_rejected_or_a_duplicate(con, landing):
    bodies = (
        page(post("101"), post("102")),  # 2 loaded
        page(post("102"), post("103", author_id=None)),  # 1 duplicate, 1 rejected
        b'{"data": [',  # not JSON: refused whole, cannot be counted
        json.dumps({"includes": {"tweets": [post("104")]}}).encode(),  # not a page: refused
    )
    extract_to_landing(Pages(*bodies), REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    # every record is accounted for, but pages refused whole hold the night back
    [result] = reconcile_runs(con, landing, UNTIL)
    assert result.balanced is False and result.books_balance
    assert "2 page(s) refused whole" in str(result.problem)
    assert (result.pages, result.pages_refused, result.pages_not_loaded) == (4, 2, 0)
    assert (
        result.records_fetched,
        result.records_loaded,
        result.records_rejected,
        result.records_duplicate,
    ) == (5, 2, 2, 1)
    stored = con.execute(
        "select account, records_fetched, records_loaded, records_rejected, records_duplicate, "
        "balanced from ops.reconciliations"
    ).fetchall()
    assert stored == [("AcmeHelp", 5, 2, 2, 1, False)]


def test_a_record_the_loader_drops_fails_reconciliation_with_the_numbers(con, landing, monkeypatch):
    drop_first_record(monkeypatch)
    extract_to_landing(
        Pages(page(post("101"), post("102"), post("103"))), REQUEST, landing, "run-1", "test"
    )
    load_landing(con, landing)
    # the loader's own books balance: it never saw the record it lost
    received, loaded = con.execute(
        "select records_received, records_loaded from ops.loaded_files"
    ).fetchone()
    assert received == loaded == 2
    with pytest.raises(ReconciliationFailed) as failed:
        reconcile_runs(con, landing, UNTIL)
    message = str(failed.value)
    assert "x/AcmeHelp (source test, night 2026-11-02, run run-1)" in message
    assert (
        "fetched 3 record(s); loaded 2 + rejected 0 + duplicates skipped 0 = 2: "
        "1 record(s) unaccounted for" in message
    )
    assert con.execute(
        "select records_fetched, records_loaded, balanced, problem from ops.reconciliations"
    ).fetchall() == [(3, 2, False, "1 record(s) unaccounted for")]


def test_the_landed_pages_hold_at_least_what_the_extractor_counted(con, landing):
    extract_to_landing(Pages(page(post("101")), counted=1), REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    [result] = reconcile_runs(con, landing, UNTIL)
    assert (result.records_extracted, result.records_fetched, result.balanced) == (1, 1, True)
    # the source served two posts, one of them never reached the landing zone
    extract_to_landing(Pages(page(post("101")), counted=2), REQUEST, landing, "run-2", "test")
    load_landing(con, landing)
    with pytest.raises(ReconciliationFailed) as failed:
        reconcile_runs(con, landing, UNTIL)
    assert "the extractor counted 2 record(s), the landed pages hold only 1" in str(failed.value)
    # a source may leave out what it knows the loader rejects: fewer is no loss; and a
    # later run of the night that balances settles the night (run-2's books stay on record)
    extract_to_landing(Pages(page(post("101")), counted=0), REQUEST, landing, "run-3", "test")
    load_landing(con, landing)
    results = {r.run_id: r for r in reconcile_runs(con, landing, UNTIL)}
    rerun = results["run-3"]
    assert (rerun.records_extracted, rerun.records_fetched, rerun.balanced) == (0, 1, True)
    assert results["run-2"].balanced is False
    assert "superseded by run run-3, which balances" in results["run-2"].problem


def test_a_broken_run_is_not_settled_by_an_earlier_one(con, landing):
    extract_to_landing(Pages(page(post("101")), counted=1), REQUEST, landing, "run-1", "test")
    extract_to_landing(Pages(page(post("101")), counted=2), REQUEST, landing, "run-2", "test")
    load_landing(con, landing)
    with pytest.raises(ReconciliationFailed, match="run run-2"):
        reconcile_runs(con, landing, UNTIL)


def test_a_page_never_loaded_counts_its_records_as_lost(con, landing):
    extract_to_landing(
        Pages(page(post("101")), page(post("102"), post("103"))), REQUEST, landing, "run-1", "test"
    )
    load_landing(con, landing)
    con.execute("delete from ops.loaded_files where landing_file like '%page-00002.json'")
    with pytest.raises(ReconciliationFailed) as failed:
        reconcile_runs(con, landing, UNTIL)
    assert "fetched 3 record(s); loaded 1 + rejected 0 + duplicates skipped 0 = 1" in str(
        failed.value
    )
    assert "2 record(s) unaccounted for; 1 of 2 page(s) never loaded" in str(failed.value)


def test_a_run_that_landed_nothing_balances_at_zero(con, landing):
    with pytest.raises(RuntimeError):
        extract_to_landing(Pages(fail_with=RuntimeError("401")), REQUEST, landing, "r", "test")
    load_landing(con, landing)
    [result] = reconcile_runs(con, landing, UNTIL)
    assert (result.pages, result.records_fetched, result.balanced) == (0, 0, True)


def test_reconciling_a_night_again_replaces_its_rows(con, landing):
    extract_to_landing(Pages(page(post("101"))), REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    reconcile_runs(con, landing, UNTIL)
    reconcile_runs(con, landing, UNTIL)
    assert con.execute("select count(*) from ops.reconciliations").fetchone()[0] == 1
    # other nights are not this night's business
    assert reconcile_runs(con, landing, datetime(2026, 11, 3, tzinfo=UTC)) == []


def test_the_command_line_run_stops_at_a_mismatch_before_building(tmp_path, monkeypatch, capsys):
    config = tmp_path / "acme.yaml"
    shutil.copy(REPO / "config" / "acme.yaml", config)
    db = tmp_path / "siloscope.duckdb"
    drop_first_record(monkeypatch)
    code = main(["run", "--config", str(config), "--db", str(db), "--date", "2026-11-01"])
    assert code == 1
    error = capsys.readouterr().err
    lines = re.findall(
        r"fetched (\d+) record\(s\); loaded (\d+) \+ rejected (\d+) \+ duplicates skipped (\d+) "
        r"= (\d+): (\d+) record\(s\) unaccounted for",
        error,
    )
    assert len(lines) == 1, error  # one record of one account
    fetched, loaded, rejected, duplicate, accounted, gap = map(int, lines[0])
    assert loaded + rejected + duplicate == accounted == fetched - 1 and gap == 1
    with duckdb.connect(str(db), read_only=True) as con:
        built = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ).fetchone()[0]
        balanced = con.execute(
            "select balanced, count(*) from ops.reconciliations group by all order by 1"
        ).fetchall()
    assert built == 0
    assert balanced == [(False, 1), (True, 4)]


def test_reddit_things_are_counted_nested_replies_included_more_stubs_not(con, tmp_path):
    from tests.unit.test_reddit_load import GOOD_PAGES, body, comment, listing
    from tests.unit.test_reddit_load import REQUEST as REDDIT_REQUEST
    from tests.unit.test_reddit_load import UNTIL as REDDIT_UNTIL
    from tests.unit.test_reddit_load import Pages as RedditPages

    broken = body(
        listing(
            comment("ok1", "alice", "fine", 1, "t3_s1", "t3_s1"),
            comment("badparent", "bob", "b", 1, "s1", "t3_s1"),
            {"kind": "t4", "data": {"id": "m1", "author": "bob", "body": "private"}},
            "not a thing",
        )
    )
    landing = LandingZone(str(tmp_path / "reddit-landing"))
    pages = RedditPages(*GOOD_PAGES, ("comments", broken))
    extract_to_landing(pages, REDDIT_REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    [result] = reconcile_runs(con, landing, REDDIT_UNTIL)
    # inbox 1; tree: s1 + c1..c5 (nested c2, c3), its "more" stub not; morechildren c6, c7
    # (a "more" again not); the broken listing 4 things, 3 of them refused
    assert (
        result.records_fetched,
        result.records_loaded,
        result.records_rejected,
        result.records_duplicate,
        result.balanced,
    ) == (13, 9, 3, 1, True)
