"""Fault 8: the same id arrives again with different content."""

from ingest.landing import extract_to_landing
from ingest.load import load_landing
from tests.faults.pages import Pages, count, page, post, request


def test_a_second_copy_with_other_content_is_kept_in_ops_conflicts(con, landing):
    first = page(post("101"), post("102"))
    edited = page(post("102", text="post 102, edited"), post("103"))
    same_again = page(post("101"))
    extract_to_landing(Pages(first, edited, same_again), request(), landing, "run-1", "test")
    load_landing(con, landing)
    # the first copy loaded stays; the other version is recorded, not dropped
    assert con.execute("select text from raw.x_posts where id = '102'").fetchone()[0] == "post 102"
    conflicts = con.execute(
        "select platform, message_id, record_path, kept_landing_file < landing_file, "
        "record::json->>'text' from ops.conflicts"
    ).fetchall()
    assert conflicts == [("x", "102", "data[0]", True, "post 102, edited")]
    # an identical copy (101 again) is a duplicate, not a conflict
    assert count(con, "raw.x_posts") == 3


def test_a_later_night_bringing_another_version_is_recorded_too(con, landing):
    from datetime import timedelta

    from tests.faults.pages import NIGHT

    extract_to_landing(Pages(page(post("101"))), request(), landing, "run-1", "test")
    load_landing(con, landing)
    changed = page(post("101", text="post 101, edited"))
    later = request(until=NIGHT + timedelta(days=1))
    extract_to_landing(Pages(changed), later, landing, "run-2", "test")
    load_landing(con, landing)
    assert count(con, "ops.conflicts where message_id = '101'") == 1
    # the same page loaded again (the night run again) records nothing new
    extract_to_landing(Pages(changed), later, landing, "run-3", "test")
    load_landing(con, landing)
    assert count(con, "ops.conflicts") == 1
