"""Fault 7 (issue 12, "dashboards never go back in time"): an older night run again."""

import duckdb

from siloscope.pipeline import run_all
from siloscope.publish import published_database
from tests.faults.nights import night, organisation, run_id


def published_window_end(settings):
    with duckdb.connect(str(published_database(settings.published_root)), read_only=True) as con:
        return con.execute("select build_window_end from meta.publication").fetchone()[0]


def test_a_backfilled_night_is_built_but_the_published_copy_stays_on_the_newest(tmp_path):
    settings = organisation(tmp_path)
    run_all(settings, run_id(night(1)), night(1))
    assert published_window_end(settings) == night(1)
    # the night before is run (again, or for the first time): a backfill
    run_all(settings, run_id(night(0)), night(0))
    assert published_window_end(settings) == night(1)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        windows = con.execute(
            "select distinct window_end from marts.org_verdict order by window_end"
        ).fetchall()
    assert [end for (end,) in windows] == [night(0), night(1)]  # its snapshot rows are built
