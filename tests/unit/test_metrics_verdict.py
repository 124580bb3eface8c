"""marts.org_verdict at each threshold's edge, and the per-window history models.

Every expected value is worked out by hand from the conversations in the test.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from tests.staging_rows import T0
from tests.staging_rows import build as build_on_rows
from transforms.build import BuildWindow

# Each department has one X and one Reddit account, its name in lower case.
DEPARTMENTS = ["Care", "Marketing", "Sales", "Legal", "Press"]


def conversations(*engaged, day=0):
    """One conversation per tuple of departments: a customer, then each department replies."""
    rows = []
    for i, departments in enumerate(engaged):
        conversation_id = f"d{day}-{i}"
        start = T0 + timedelta(days=day)
        authors = [f"customer{i}", *(d.lower() for d in departments)]
        for minute, author in enumerate(authors):
            rows.append(
                (
                    "x",
                    f"{conversation_id}-{minute}",
                    conversation_id,
                    None,
                    author,
                    author,
                    None,
                    start + timedelta(minutes=minute),
                    "",
                )
            )
    return rows


def build(messages, *, window=None, con=None, **thresholds):
    departments = {d: {"x": [d.lower()], "reddit": [d.lower()]} for d in DEPARTMENTS}
    return build_on_rows(messages, departments, window=window, con=con, thresholds=thresholds)


def verdict(con):
    cursor = con.execute("from marts.org_verdict")
    names = [d[0] for d in cursor.description]
    found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert len(found) == 1
    return found[0]


def glue_scores(con):
    return dict(
        con.execute("select department, glue_score from marts.department_scorecard").fetchall()
    )


def test_verdict_columns_are_the_contract():
    columns = [c for c, *_ in build([]).execute("describe marts.org_verdict").fetchall()]
    assert columns == [
        "window_start",
        "window_end",
        "customer_conversations",
        "engaged_conversations",
        "handled_conversations",
        "cross_department_conversations",
        "cross_department_share",
        "org_ei_index",
        "multi_department_customers",
        "fragmented_customers",
        "fragmented_share",
        "glue_department",
        "verdict",
    ]


# 3 shared (Care, Marketing) + 1 Care alone: 4 engaged, 3 cross-department.
FOUR_ENGAGED = conversations(*[("Care", "Marketing")] * 3, ("Care",))


@pytest.mark.parametrize(
    ("min_conversations", "expected"),
    [(5, "insufficient_data"), (4, "networked")],  # 4 engaged = min - 1, then = min
)
def test_insufficient_data_below_min_conversations(min_conversations, expected):
    row = verdict(build(FOUR_ENGAGED, min_conversations=min_conversations))
    assert row["engaged_conversations"] == 4
    assert row["cross_department_conversations"] == 3
    assert row["cross_department_share"] == 0.75
    assert row["org_ei_index"] == 0.5  # (3 - 1) / 4
    assert row["glue_department"] is None  # nobody has two partners
    assert row["verdict"] == expected


def test_nothing_engaged_is_insufficient_even_with_no_minimum():
    row = verdict(build(conversations((), ()), min_conversations=0))
    assert (row["customer_conversations"], row["engaged_conversations"]) == (2, 0)
    assert row["cross_department_share"] is None
    assert row["org_ei_index"] is None
    assert row["fragmented_share"] is None
    assert row["verdict"] == "insufficient_data"


@pytest.mark.parametrize(
    ("silo_threshold", "expected"),
    [(0.25, "networked"), (0.2501, "siloed")],  # the share 0.25 at the threshold, then below it
)
def test_siloed_below_silo_threshold(silo_threshold, expected):
    # 1 shared + 3 solo: cross_department_share = 1 / 4
    messages = conversations(("Care", "Marketing"), ("Care",), ("Marketing",), ("Sales",))
    row = verdict(build(messages, min_conversations=4, silo_threshold=silo_threshold))
    assert row["cross_department_share"] == 0.25
    assert row["org_ei_index"] == -0.5  # (1 - 3) / 4
    assert row["verdict"] == expected


@pytest.mark.parametrize(
    ("glue_threshold", "glue_department", "expected"),
    [(0.5, "Care", "glued"), (0.51, None, "networked")],
)
def test_glued_when_one_department_bridges_enough(glue_threshold, glue_department, expected):
    # 4 cross-department conversations. Care is in 2 of them with 2 partners: 2/4 = 0.5.
    # Legal and Press are in 2 each too, but only with each other (1 partner): 0.
    messages = conversations(
        ("Care", "Marketing"), ("Care", "Sales"), ("Legal", "Press"), ("Legal", "Press")
    )
    con = build(messages, min_conversations=4, glue_threshold=glue_threshold)
    assert glue_scores(con) == {
        "Care": 0.5,
        "Marketing": 0.0,
        "Sales": 0.0,
        "Legal": 0.0,
        "Press": 0.0,
    }
    row = verdict(con)
    assert row["cross_department_share"] == 1.0
    assert row["glue_department"] == glue_department
    assert row["verdict"] == expected


def test_a_tie_for_the_top_glue_score_means_no_glue_department():
    # Care (partners Marketing, Sales), Sales (Care, Legal) and Legal (Sales, Press) are
    # each in 2 of the 4 cross-department conversations: 0.5 apiece.
    messages = conversations(
        ("Care", "Marketing"), ("Care", "Sales"), ("Sales", "Legal"), ("Legal", "Press")
    )
    con = build(messages, min_conversations=4)
    assert glue_scores(con) == {
        "Care": 0.5,
        "Marketing": 0.0,
        "Sales": 0.5,
        "Legal": 0.5,
        "Press": 0.0,
    }
    row = verdict(con)
    assert row["glue_department"] is None
    assert row["verdict"] == "networked"


def test_customers_are_per_platform_and_fragmented_when_never_in_a_shared_conversation():
    def message(platform, message_id, conversation_id, author, minute):
        created_at = T0 + timedelta(minutes=minute)
        return (platform, message_id, conversation_id, None, author, author, None, created_at, "")

    messages = [
        message("x", "a1", "a", "sam", 0),
        message("x", "a2", "a", "care", 1),
        message("x", "b1", "b", "sam", 0),
        message("x", "b2", "b", "marketing", 1),
        message("x", "d1", "d", "kim", 0),
        message("x", "d2", "d", "care", 1),
        message("x", "d3", "d", "sales", 2),
        message("x", "e1", "e", "kim", 0),
        message("x", "e2", "e", "marketing", 1),
        # lee on Reddit (answered by Care there) and lee on X (by Marketing) are two customers
        message("reddit", "f1", "f", "lee", 0),
        message("reddit", "f2", "f", "care", 1),
        message("x", "g1", "g", "lee", 0),
        message("x", "g2", "g", "marketing", 1),
    ]
    row = verdict(build(messages, min_conversations=0))
    # sam: C(Care) and C(Marketing), never in a cross-department conversation: fragmented.
    # kim: C(Care), C(Sales), C(Marketing), but was in d (Care + Sales): not fragmented.
    # reddit:lee is only in C(Care), x:lee only in C(Marketing).
    assert row["customer_conversations"] == 6  # a, b, d, e, f, g
    assert row["multi_department_customers"] == 2
    assert row["fragmented_customers"] == 1
    assert row["fragmented_share"] == 0.5


def test_rebuilding_a_window_replaces_its_history_rows_and_a_new_window_adds_one():
    con = duckdb.connect()
    old = conversations(("Care",), ("Care", "Marketing"), day=0)
    recent = conversations(("Sales",), day=40)
    build(old + recent, con=con)
    build(old + recent, con=con)  # the same window again
    assert con.execute(
        "select window_start, window_end, customer_conversations from marts.org_verdict"
    ).fetchall() == [(None, None, 3)]
    assert con.execute("select count(*) from marts.department_scorecard_history").fetchone() == (
        5,
    )  # one row per department

    end = T0 + timedelta(days=50)
    window = BuildWindow.rolling(end, days=28)  # [day 22, day 50): only the Sales conversation
    build(old + recent, con=con, window=window)
    build(old + recent, con=con, window=window)
    assert con.execute(
        "select window_start, window_end, customer_conversations, engaged_conversations "
        "from marts.org_verdict order by window_start nulls first"
    ).fetchall() == [(None, None, 3, 3), (T0 + timedelta(days=22), end, 1, 1)]
    history = con.execute(
        "select window_start, department, conversations from marts.department_scorecard_history "
        "where department in ('Care', 'Sales') order by window_start nulls first, department"
    ).fetchall()
    assert history == [
        (None, "Care", 2),
        (None, "Sales", 1),
        (T0 + timedelta(days=22), "Care", 0),
        (T0 + timedelta(days=22), "Sales", 1),
    ]
    history_columns = [
        c for c, *_ in con.execute("describe marts.department_scorecard_history").fetchall()
    ]
    scorecard_columns = [
        c for c, *_ in con.execute("describe marts.department_scorecard").fetchall()
    ]
    assert history_columns == ["window_start", "window_end", *scorecard_columns]
    # the scorecard itself is the latest window's
    assert con.execute(
        "select conversations from marts.department_scorecard where department = 'Care'"
    ).fetchone() == (0,)
