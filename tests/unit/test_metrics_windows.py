"""Every mart measures only the messages inside the build window, and nightly windows pile
up as snapshots for trend charts.

Every expected value is worked out by hand from the rows in the test (docs/metrics.md).
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

from tests.unit.test_metrics_conversations import T0, build, msg, rows
from transforms.build import BuildWindow

DAY = 24 * 60  # minutes

MESSAGES = [
    # A: entirely before the window but Marketing's reply: inside, A has no customer
    msg("a1", "a", "c1", 0),
    msg("a2", "a", "acmehelp", 1 * DAY),
    msg("a3", "a", "acme", 3 * DAY),
    # B: the customer opens before the window; inside, Care -> Marketing -> Sales
    msg("b1", "b", "c2", 1 * DAY),
    msg("b2", "b", "acmehelp", 2.5 * DAY),
    msg("b3", "b", "c2", 3 * DAY),
    msg("b4", "b", "acme", 4 * DAY),
    msg("b5", "b", "acmesales", 5 * DAY),
    # C: Sales alone inside; Marketing answers exactly at the window end (excluded)
    msg("c1", "c", "c3", 3 * DAY),
    msg("c2", "c", "acmesales", 3 * DAY + 1),
    msg("c3", "c", "acme", 30 * DAY),
    # D: before the window: Care -> Sales
    msg("d1", "d", "c4", 0),
    msg("d2", "d", "acmehelp", 1),
    msg("d3", "d", "acmesales", 2),
]
NIGHT_1 = BuildWindow.rolling(T0 + timedelta(days=30), days=28)  # [day 2, day 30)
NIGHT_2 = BuildWindow.rolling(T0 + timedelta(days=31), days=28)  # [day 3, day 31)


def pairs(con):
    return {
        (r.pop("department_a"), r.pop("department_b")): (
            r["handoffs_a_to_b"],
            r["handoffs_b_to_a"],
            r["co_handled_conversations"],
        )
        for r in rows(con, "from marts.department_pairs")
    }


def roles(con):
    return rows(
        con,
        "from marts.brokerage where coordinator + gatekeeper + representative + itinerant "
        "+ liaison > 0",
    )


def scorecard(con):
    return {
        r["department"]: (r["conversations"], r["solo_conversations"], r["shared_conversations"])
        for r in rows(con, "from marts.department_scorecard")
    }


def test_a_rolling_window_cuts_every_mart_at_its_edges():
    con = build(MESSAGES, window=NIGHT_1)
    assert sorted(r["conversation_id"] for r in rows(con, "from marts.conversations")) == [
        "b",
        "c",
    ]
    # Care -> Marketing and Marketing -> Sales in B; the C and D handoffs are outside
    assert pairs(con) == {
        ("Care", "Marketing"): (1, 0, 1),
        ("Care", "Sales"): (0, 0, 1),
        ("Marketing", "Sales"): (1, 0, 1),
    }
    # acme brokers acmehelp -> acme -> acmesales; D's direct edge is outside the window
    assert roles(con) == [
        {
            "department": "Marketing",
            "account": "acme",
            "coordinator": 0,
            "gatekeeper": 0,
            "representative": 0,
            "itinerant": 0,
            "liaison": 1,
        }
    ]
    assert scorecard(con) == {"Care": (1, 0, 1), "Marketing": (1, 0, 1), "Sales": (2, 1, 1)}
    verdict = rows(con, "from marts.org_verdict")[0]
    assert (verdict["window_start"], verdict["window_end"]) == (NIGHT_1.start, NIGHT_1.end)
    assert (verdict["customer_conversations"], verdict["engaged_conversations"]) == (2, 2)
    assert verdict["cross_department_share"] == 0.5


def test_the_whole_history_counts_what_the_window_cut():
    con = build(MESSAGES)
    assert pairs(con) == {
        ("Care", "Marketing"): (2, 0, 2),  # A and B
        ("Care", "Sales"): (1, 0, 2),  # D; co-handled B and D
        ("Marketing", "Sales"): (1, 1, 2),  # B; C (Sales -> Marketing)
    }
    # with D's acmehelp -> acmesales, acme brokers nothing; nobody else has a pair
    assert roles(con) == []
    assert scorecard(con) == {"Care": (3, 0, 3), "Marketing": (3, 0, 3), "Sales": (3, 0, 3)}


def test_nightly_windows_are_kept_as_snapshots():
    con = duckdb.connect()
    build(MESSAGES, window=NIGHT_1, con=con)
    build(MESSAGES, window=NIGHT_2, con=con)
    build(MESSAGES, window=NIGHT_1, con=con)  # a night run again replaces its snapshot
    assert con.execute(
        "select window_start, window_end, customer_conversations, cross_department_conversations "
        "from marts.org_verdict order by window_start"
    ).fetchall() == [
        (NIGHT_1.start, NIGHT_1.end, 2, 1),
        # from day 3: B's Care reply is out; C's Marketing reply at day 30 is in
        (NIGHT_2.start, NIGHT_2.end, 2, 2),
    ]
    assert con.execute(
        "select window_start, department, conversations, shared_conversations "
        "from marts.department_scorecard_history order by window_start, department"
    ).fetchall() == [
        (NIGHT_1.start, "Care", 1, 1),
        (NIGHT_1.start, "Marketing", 1, 1),
        (NIGHT_1.start, "Sales", 2, 1),
        (NIGHT_2.start, "Care", 0, 0),
        (NIGHT_2.start, "Marketing", 2, 2),
        (NIGHT_2.start, "Sales", 2, 2),
    ]
