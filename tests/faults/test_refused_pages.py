"""Faults 2 and 3: a page refused by the loader, then the night run again (or the next one)."""

from pathlib import Path

from ingest.landing import extract_to_landing
from ingest.load import load_landing
from ingest.reconcile import reconcile_runs
from tests.faults.pages import NIGHT, Pages, count, page, post, request

GOOD_PAGES = (page(post("101"), post("102")), page(post("103"), post("104")))


def truncate(landing, account: str, number: int) -> Path:
    """Cut a landed page in half on disk, as a full disk or a crashed copy would."""
    [landed] = Path(landing.root).glob(f"x/{account}/dt=*/run=*/page-{number:05d}.json")
    landed.write_bytes(landed.read_bytes()[: landed.stat().st_size // 2])
    return landed


def land_night_with_a_truncated_page(con, landing) -> None:
    extract_to_landing(Pages(*GOOD_PAGES, newest="104"), request(), landing, "run-1", "test")
    truncate(landing, "AcmeHelp", 2)
    first = load_landing(con, landing)
    assert first.pages_rejected == 1 and count(con, "raw.x_posts") == 2


def test_reconciliation_does_not_balance_a_night_with_a_refused_page(con, landing):
    land_night_with_a_truncated_page(con, landing)
    [result] = reconcile_runs(con, landing, NIGHT)
    # the books add up (the page's records count as rejected), but the night is not whole
    assert result.books_balance and "1 page(s) refused" in str(result.problem)
    balanced, refused = con.execute(
        "select balanced, pages_refused from ops.reconciliations"
    ).fetchone()
    assert (balanced, refused) == (False, 1)


def test_the_night_run_again_loads_what_the_refused_page_held_and_resolves_it(con, landing):
    land_night_with_a_truncated_page(con, landing)
    # the night is run again: the source serves the very same bytes as the first time
    extract_to_landing(Pages(*GOOD_PAGES, newest="104"), request(), landing, "run-2", "test")
    second = load_landing(con, landing)
    assert (second.records_loaded, second.records_duplicate) == (2, 2)
    ids = [i for (i,) in con.execute("select id from raw.x_posts order by id").fetchall()]
    assert ids == ["101", "102", "103", "104"]
    # the reject stays, marked resolved by that load, not deleted
    rejects = con.execute(
        "select record_path, resolved_at is not null, resolved_by_load from ops.rejects"
    ).fetchall()
    assert len(rejects) == 1 and rejects[0][:2] == (None, True) and rejects[0][2] is not None
    first_run, second_run = reconcile_runs(con, landing, NIGHT)
    assert second_run.balanced and second_run.records_loaded == 2
    # its refused page is settled by the later run: it no longer holds the night back
    assert first_run.pages_refused == 0 and first_run.balanced
    assert count(con, "ops.loaded_files") == 4  # one row per landed file


def test_the_same_file_written_again_in_place_is_read_again(con, landing):
    """Dedupe by what was loaded, not by what was seen: the manifest and the page written
    again at the same path (a copy restored by hand), same bytes as the refused page's."""
    land_night_with_a_truncated_page(con, landing)
    [manifest_path] = Path(landing.root).glob("x/AcmeHelp/dt=*/run=*/_manifest.json")
    (manifest_path.parent / "page-00002.json").write_bytes(GOOD_PAGES[1])
    manifest_path.write_bytes(manifest_path.read_bytes() + b"\n")  # the manifest rewritten
    again = load_landing(con, landing)
    assert (again.files, again.records_loaded) == (1, 2)
    assert count(con, "ops.rejects where resolved_at is null") == 0
    assert count(con, "ops.watermarks") == 1


def test_loading_again_does_not_refuse_the_same_unchanged_page_twice(con, landing):
    land_night_with_a_truncated_page(con, landing)
    again = load_landing(con, landing)
    assert again.files == 0 and count(con, "ops.rejects") == 1


def test_watermarks_do_not_move_past_a_refused_page(con, landing):
    land_night_with_a_truncated_page(con, landing)
    assert count(con, "ops.watermarks") == 0
    complete = con.execute("select complete from ops.extract_runs").fetchone()[0]
    assert complete  # the extract finished; its pages did not all load
    # the night run again loads the page, and the watermark moves with it
    extract_to_landing(Pages(*GOOD_PAGES, newest="104"), request(), landing, "run-2", "test")
    load_landing(con, landing)
    marks = con.execute("select endpoint, since_id, until from ops.watermarks").fetchall()
    assert marks == [("mentions", "104", NIGHT)]


def test_the_next_night_asks_again_for_what_a_refused_page_held(tmp_path):
    """Through the pipeline's plan: night 2 starts from before night 1's refused page."""
    from datetime import timedelta

    from siloscope.config import load_config
    from siloscope.pipeline import connect, load, plan_extract
    from siloscope.settings import Settings

    config_file = tmp_path / "org.yaml"
    config_file.write_text(
        "organization: Acme\ndepartments:\n  - name: Care\n    accounts: {x: [AcmeHelp]}\n"
        "sources: {x: api}\n"
    )
    settings = Settings.resolve(config_file, tmp_path / "work.duckdb", str(tmp_path / "landing"))
    config = load_config(config_file)
    from ingest.landing import LandingZone

    landing = LandingZone(settings.landing_root)
    extract_to_landing(Pages(*GOOD_PAGES, newest="104"), request(), landing, "run-1", "test")
    truncate(landing, "AcmeHelp", 2)
    load(settings)
    [target] = plan_extract(settings, config, NIGHT + timedelta(days=1))
    assert target.since_ids == {}  # a backfill, not since_id 104
    with connect(settings, read_only=True) as con:
        assert count(con, "ops.rejects where resolved_at is null") == 1


def test_a_database_from_before_resolved_rejects_gets_the_columns_on_its_next_load(con, landing):
    con.execute(
        "create schema ops; create table ops.rejects (landing_file varchar not null, "
        "record_path varchar, platform varchar, account varchar, reason varchar not null, "
        "record varchar, rejected_at timestamptz not null)"
    )
    con.execute(
        "insert into ops.rejects values ('old/page.json', null, 'x', 'A', 'old', '', now())"
    )
    land_night_with_a_truncated_page(con, landing)
    rows = con.execute(
        "select landing_file = 'old/page.json', resolved_at from ops.rejects order by rejected_at"
    ).fetchall()
    assert rows == [(True, None), (False, None)]  # both still hold their pages back
    assert count(con, "ops.conflicts") == 0
