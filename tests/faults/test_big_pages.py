"""Fault 6: a valid page bigger than DuckDB's default maximum_object_size (16 MB)."""

import json

from ingest.landing import extract_to_landing
from ingest.load import load_landing
from ingest.reconcile import reconcile_runs
from tests.faults.pages import NIGHT, Pages, count, page, post, request

POSTS_ON_THE_BIG_PAGE = 20_000
WORDS = "thanks for the quick help with my order " * 25  # ~1 KB a post: a 20 MB page


def big_page() -> bytes:
    return page(
        *(post(str(500_000 + n), text=f"{n} {WORDS}") for n in range(POSTS_ON_THE_BIG_PAGE))
    )


def test_a_page_of_any_size_loads_and_the_books_are_true(con, landing):
    body = big_page()
    assert len(body) > 16 * 1024 * 1024
    small = page(post("101"), post("500000"))  # one new post, one also on the big page
    extract_to_landing(Pages(body, small, newest="9"), request(), landing, "run-1", "test")
    report = load_landing(con, landing)
    assert report.pages_rejected == 0 and count(con, "ops.rejects") == 0
    assert count(con, "raw.x_posts") == POSTS_ON_THE_BIG_PAGE + 1
    # "loaded" is the rows actually inserted, one ops.loaded_files row per file
    files = con.execute(
        "select f.records_received, f.records_loaded, f.records_duplicate, "
        "(select count(*) from raw.x_posts p where p.landing_file = f.landing_file) "
        "from ops.loaded_files f order by f.landing_file"
    ).fetchall()
    assert files == [
        (POSTS_ON_THE_BIG_PAGE, POSTS_ON_THE_BIG_PAGE, 0, POSTS_ON_THE_BIG_PAGE),
        (2, 1, 1, 1),
    ]
    [books] = reconcile_runs(con, landing, NIGHT)
    assert books.balanced
    assert (books.records_fetched, books.records_loaded) == (POSTS_ON_THE_BIG_PAGE + 2, 20_001)
    assert json.loads(body)["data"][-1]["id"] == "519999"
