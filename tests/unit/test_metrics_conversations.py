"""marts.conversations and the models under it, on hand-written staging rows.

Every expected value is worked out by hand from the rows in the test (docs/metrics.md).
"""

from __future__ import annotations

from datetime import timedelta

from tests.staging_rows import T0, msg, rows
from tests.staging_rows import build as build_on_rows
from transforms.build import BuildWindow

DEPARTMENTS = {
    "Care": {"x": ["AcmeHelp"], "reddit": ["AcmeSupport"]},
    "Marketing": {"x": ["@Acme"]},
    "Sales": {"x": ["AcmeSales"]},
}


def build(messages, departments=DEPARTMENTS, *, window=None, con=None, **config):
    return build_on_rows(messages, departments, window=window, con=con, **config)


def conversation(con, conversation_id, platform="x"):
    found = rows(
        con,
        f"from marts.conversations where platform = '{platform}' "
        f"and conversation_id = '{conversation_id}'",
    )
    assert len(found) == 1, found
    return found[0]


def test_conversations_columns_are_the_contract():
    con = build([msg("1", "1", "c1", 0)])
    columns = [name for name, *_ in con.execute("describe marts.conversations").fetchall()]
    assert columns == [
        "platform",
        "conversation_id",
        "first_customer_at",
        "first_response_at",
        "first_response_seconds",
        "first_department",
        "departments_engaged",
        "n_departments",
        "cross_department",
        "handoffs",
        "messages",
        "customer_messages",
        "org_messages",
    ]


def test_ties_in_time_are_ordered_by_numeric_id():
    # '9' and '10' share a second: numerically 9 (Care) comes first, as text '10' would.
    con = build(
        [
            msg("8", "8", "c1", 0),
            msg("10", "8", "acme", 1, parent="8"),
            msg("9", "8", "acmehelp", 1, parent="8"),
        ]
    )
    row = conversation(con, "8")
    assert row["first_department"] == "Care"
    assert row["first_response_seconds"] == 60.0
    assert row["departments_engaged"] == ["Care", "Marketing"]
    assert row["handoffs"] == 1  # Care -> Marketing
    positions = con.execute(
        "select message_id from intermediate.int_conversation_messages order by position"
    ).fetchall()
    assert positions == [("8",), ("9",), ("10",)]
    pair = rows(
        con,
        "from marts.department_pairs where department_a = 'Care' and department_b = 'Marketing'",
    )[0]
    assert (pair["handoffs_a_to_b"], pair["handoffs_b_to_a"]) == (1, 0)


def test_unanswered_org_started_and_same_second_conversations():
    con = build(
        [
            # unanswered: only the customer
            msg("100", "100", "c1", 0),
            msg("101", "100", "c1", 5, parent="100"),
            # the org started: Marketing posts, the customer replies at 5, Care at 7, Marketing 9
            msg("200", "200", "acme", 0),
            msg("201", "200", "c2", 5, parent="200"),
            msg("202", "200", "acmehelp", 7, parent="201"),
            msg("203", "200", "acme", 9, parent="202"),
            # the reply in the customer's own second counts ("at or after"), even with a smaller id
            msg("301", "301", "c3", 0),
            msg("300", "301", "acmesales", 0, parent="301"),
            # no customer at all: not a customer conversation
            msg("400", "400", "acme", 0),
            msg("401", "400", "acmehelp", 1, parent="400"),
        ]
    )
    assert [
        r["conversation_id"] for r in rows(con, "from marts.conversations order by conversation_id")
    ] == ["100", "200", "301"]

    unanswered = conversation(con, "100")
    assert unanswered["first_customer_at"] == T0
    assert unanswered["first_response_at"] is None
    assert unanswered["first_response_seconds"] is None
    assert unanswered["first_department"] is None
    assert unanswered["departments_engaged"] == []
    assert unanswered["n_departments"] == 0
    assert unanswered["cross_department"] is False
    assert (unanswered["handoffs"], unanswered["messages"]) == (0, 2)
    assert (unanswered["customer_messages"], unanswered["org_messages"]) == (2, 0)

    started = conversation(con, "200")
    assert started["first_customer_at"] == T0 + timedelta(minutes=5)
    assert started["first_response_at"] == T0 + timedelta(minutes=7)
    assert started["first_response_seconds"] == 120.0  # 7 min - 5 min
    assert started["first_department"] == "Care"
    assert started["departments_engaged"] == ["Care", "Marketing"]
    assert (started["n_departments"], started["cross_department"]) == (2, True)
    assert started["handoffs"] == 2  # Marketing -> Care -> Marketing
    assert (started["messages"], started["customer_messages"], started["org_messages"]) == (4, 1, 3)

    same_second = conversation(con, "301")
    assert same_second["first_response_seconds"] == 0.0
    assert same_second["first_department"] == "Sales"


def test_author_kinds():
    con = build(
        [
            msg("1", "1", "acmehelp", 0),  # org (staging lowercases handles)
            msg("2", "1", "somebot", 1),  # ignored account: other
            msg("3", "1", "partnerco", 2, inbound=False),  # a company, not configured: other
            msg("4", "1", None, 3),  # deleted account: unknown
            msg("5", "1", "c1", 4, inbound=True),
            msg("6", "6", "acmesupport", 0, platform="reddit"),
            msg("7", "6", "acmehelp", 1, platform="reddit"),  # an X handle, on Reddit: a customer
        ],
        ignore_accounts={"x": ["SomeBot"]},
    )
    kinds = con.execute(
        "select platform, message_id, author_kind, department, account "
        "from intermediate.int_messages order by platform, message_id"
    ).fetchall()
    assert kinds == [
        ("reddit", "6", "org", "Care", "acmesupport"),
        ("reddit", "7", "customer", None, None),
        ("x", "1", "org", "Care", "acmehelp"),
        ("x", "2", "other", None, None),
        ("x", "3", "other", None, None),
        ("x", "4", "unknown", None, None),
        ("x", "5", "customer", None, None),
    ]


def test_deleted_and_other_authors_do_not_make_a_customer_conversation():
    con = build(
        [
            msg("1", "1", None, 0),
            msg("2", "1", "acmehelp", 1),
            msg("3", "3", "partnerco", 0, inbound=False),
            msg("4", "3", "acmehelp", 1),
        ]
    )
    assert rows(con, "from marts.conversations") == []


def test_reply_cycle_in_twcs_data_is_cut_at_the_smallest_numeric_id():
    con = build(
        [
            # a healthy thread: 10 <- 11 <- 12, so all three are conversation 10
            msg("10", None, "c1", 0, platform="twcs", inbound=True),
            msg("11", None, "acmehelp", 1, parent="10", platform="twcs", inbound=False),
            msg("12", None, "c1", 2, parent="11", platform="twcs", inbound=True),
            # a reply whose parent is missing from the data is a root
            msg("20", None, "c2", 0, parent="19", platform="twcs", inbound=True),
            # a cycle 30 -> 205 -> 41 -> 30 (parent links): as numbers 30 is the smallest,
            # as text '205' would be; 50 hangs under the cycle
            msg("30", None, "c3", 0, parent="205", platform="twcs", inbound=True),
            msg("205", None, "c3", 2, parent="41", platform="twcs", inbound=True),
            msg("41", None, "acmehelp", 1, parent="30", platform="twcs", inbound=False),
            msg("50", None, "c3", 3, parent="41", platform="twcs", inbound=True),
            # a message replying to itself
            msg("7", None, "c4", 0, parent="7", platform="twcs", inbound=True),
        ]
    )
    resolved = dict(
        con.execute("select message_id, conversation_id from intermediate.int_messages").fetchall()
    )
    assert resolved == {
        "10": "10",
        "11": "10",
        "12": "10",
        "20": "20",
        "30": "30",
        "205": "30",
        "41": "30",
        "50": "30",
        "7": "7",
    }
    cycle = conversation(con, "30", platform="twcs")
    assert (cycle["messages"], cycle["customer_messages"], cycle["org_messages"]) == (4, 3, 1)
    # the customer wrote at 0 (30), Care (an X handle: TWCS is X data) answered at 1
    assert cycle["first_department"] == "Care"
    assert cycle["first_response_seconds"] == 60.0


def test_reply_without_conversation_id_joins_its_parents_conversation():
    con = build(
        [
            msg("1", "1", "c1", 0),
            msg("2", None, "acmehelp", 1, parent="1"),
            msg("3", None, "c1", 2, parent="2"),
        ]
    )
    resolved = dict(
        con.execute("select message_id, conversation_id from intermediate.int_messages").fetchall()
    )
    assert resolved == {"1": "1", "2": "1", "3": "1"}


def test_rolling_window_measures_only_messages_inside_it():
    day = 24 * 60
    end = T0 + timedelta(days=30)
    window = BuildWindow.rolling(end, days=28)  # [T0 + 2 days, T0 + 30 days)
    con = build(
        [
            # entirely before the window
            msg("1", "1", "c1", 0),
            msg("2", "1", "acmehelp", 1),
            # straddles: the customer's first message is outside, Care's reply and the
            # customer's follow-up inside, so inside the window the org spoke first
            msg("10", "10", "c2", 1 * day),
            msg("11", "10", "acmehelp", 3 * day),
            msg("12", "10", "c2", 4 * day),
            # starts exactly at the window start (inclusive)
            msg("20", "20", "c3", 2 * day),
            msg("21", "20", "acme", 2 * day + 10),
            # exactly at the window end (exclusive)
            msg("30", "30", "c4", 30 * day),
        ],
        window=window,
    )
    found = {r["conversation_id"]: r for r in rows(con, "from marts.conversations")}
    assert sorted(found) == ["10", "20"]
    straddling = found["10"]
    assert straddling["first_customer_at"] == T0 + timedelta(days=4)
    assert straddling["first_response_at"] is None
    assert (straddling["messages"], straddling["n_departments"]) == (2, 1)
    assert found["20"]["first_response_seconds"] == 600.0
    verdict = rows(con, "from marts.org_verdict")
    assert len(verdict) == 1
    assert verdict[0]["window_start"] == T0 + timedelta(days=2)
    assert verdict[0]["window_end"] == end
    assert verdict[0]["customer_conversations"] == 2
    assert verdict[0]["engaged_conversations"] == 2
    assert verdict[0]["handled_conversations"] == 1  # "10" has no reply after its customer


def test_a_handle_listed_twice_in_the_config_counts_its_messages_once():
    departments = {"Care": {"x": ["AcmeHelp", "@acmehelp"]}}
    con = build([msg("1", "1", "c1", 0), msg("2", "1", "acmehelp", 1)], departments)
    row = conversation(con, "1")
    assert (row["messages"], row["org_messages"]) == (2, 1)
    assert con.execute("select count(*) from intermediate.int_messages").fetchone() == (2,)
