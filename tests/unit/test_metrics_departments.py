"""marts.department_scorecard, department_pairs and brokerage on hand-written staging rows.

Every expected value is worked out by hand from the rows in the test (docs/metrics.md).
"""

from __future__ import annotations

import pytest

from tests.staging_rows import build, msg, rows


def chain(conversation_id, customer, *org_handles, customer_platform="x"):
    """A customer opens at minute 0; each org handle replies one minute after the last."""
    return [
        msg(f"{conversation_id}-0", conversation_id, customer, 0, platform=customer_platform)
    ] + [
        msg(f"{conversation_id}-{i}", conversation_id, handle, i, platform=customer_platform)
        for i, handle in enumerate(org_handles, start=1)
    ]


# Configured in this order; alphabetically: Care, Legal, Marketing, Press, Sales.
ORG = {
    "Care": {"x": ["AcmeHelp"], "reddit": ["u/AcmeSupport"]},
    "Marketing": {"x": ["Acme"]},
    "Sales": {"x": ["AcmeSales"]},
    "Legal": {"x": ["AcmeLegal"]},
    "Press": {"x": ["AcmePress"]},
}

ORG_MESSAGES = [
    # 1: Care alone, answers after 60 s and points the customer at Marketing
    msg("1", "1", "c1", 0),
    msg("2", "1", "acmehelp", 1, "DM @Acme for promos"),
    # 2: Care (120 s) then Marketing: a handoff Care -> Marketing
    msg("3", "2", "c1", 0),
    msg("4", "2", "acmehelp", 2),
    msg("5", "2", "acme", 3),
    # 3: Marketing (60 s) then Care: a handoff Marketing -> Care
    msg("6", "3", "c2", 0),
    msg("7", "3", "acme", 1),
    msg("8", "3", "acmehelp", 4),
    # 4: Sales alone (300 s); none of these mentions is a whole handle of another department
    msg("9", "4", "c3", 0),
    msg("10", "4", "acmesales", 5, "mail help@acmehelp.com or @acmehelp2, @acmesalesteam"),
    # 5: Marketing alone (600 s) refers to Care, twice in one message
    msg("11", "5", "c3", 0),
    msg("12", "5", "acme", 10, "@AcmeHelp can help, also @ACMEHELP."),
    # 6: Marketing (60 s) then Sales: a handoff Marketing -> Sales
    msg("13", "6", "c4", 0),
    msg("14", "6", "acme", 1),
    msg("15", "6", "acmesales", 2),
    # 7: unanswered; a customer's mention is no referral
    msg("16", "7", "c5", 0, "hey @acmehelp @acme"),
    # 8: Sales alone (60 s)
    msg("17", "8", "c6", 0),
    msg("18", "8", "acmesales", 1),
    # r1 on Reddit: c1 there is another customer than c1 on X; Care answers after 90 s.
    # Marketing has no Reddit account, so '@acme' here refers to nobody.
    msg("19", "r1", "c1", 0, platform="reddit"),
    msg("20", "r1", "acmesupport", 1.5, "see @acme", platform="reddit"),
    # 9: no customer, so engages nobody; a referral all the same (Legal -> Press)
    msg("21", "9", "acmelegal", 0, "@AcmePress fyi"),
    msg("22", "9", "acmepress", 1),
]


@pytest.fixture(scope="module")
def org_marts():
    return build(ORG_MESSAGES, ORG, thresholds={"min_conversations": 8})


def test_scorecard(org_marts):
    scorecard = rows(org_marts, "from marts.department_scorecard")
    assert [r["department"] for r in scorecard] == ["Care", "Marketing", "Sales", "Legal", "Press"]
    by_department = {r.pop("department"): r for r in scorecard}
    # engaged: 1, 2, 3, 4, 5, 6, 8, r1; cross-department: 2, 3, 6
    assert by_department["Care"] == {
        "conversations": 4,  # 1, 2, 3, r1
        "solo_conversations": 2,  # 1, r1
        "shared_conversations": 2,  # 2, 3
        "ei_index": 0.0,  # (2 - 2) / 4
        "customers": 3,  # x:c1, x:c2, reddit:c1
        "first_responses": 3,  # 1 (60 s), 2 (120 s), r1 (90 s)
        "median_first_response_seconds": 90.0,
        "bridging_share": pytest.approx(2 / 3),
        "partners": 1,  # Marketing
        "betweenness": 0.0,
        "glue_score": 0.0,  # partners < 2
    }
    assert by_department["Marketing"] == {
        "conversations": 4,  # 2, 3, 5, 6
        "solo_conversations": 1,
        "shared_conversations": 3,
        "ei_index": 0.5,  # (3 - 1) / 4
        "customers": 4,  # c1, c2, c3, c4
        "first_responses": 3,  # 3 (60 s), 5 (600 s), 6 (60 s)
        "median_first_response_seconds": 60.0,
        "bridging_share": 1.0,  # 3 / 3
        "partners": 2,  # Care, Sales
        "betweenness": pytest.approx(1 / 6),  # on the one Care-Sales path; 1 / (4 * 3 / 2)
        "glue_score": 1.0,
    }
    assert by_department["Sales"] == {
        "conversations": 3,  # 4, 6, 8
        "solo_conversations": 2,
        "shared_conversations": 1,
        "ei_index": pytest.approx(-1 / 3),  # (1 - 2) / 3
        "customers": 3,  # c3, c4, c6
        "first_responses": 2,  # 4 (300 s), 8 (60 s)
        "median_first_response_seconds": 180.0,  # (60 + 300) / 2
        "bridging_share": pytest.approx(1 / 3),
        "partners": 1,
        "betweenness": 0.0,
        "glue_score": 0.0,
    }
    idle = {
        "conversations": 0,
        "solo_conversations": 0,
        "shared_conversations": 0,
        "ei_index": None,
        "customers": 0,
        "first_responses": 0,
        "median_first_response_seconds": None,
        "bridging_share": 0.0,  # 0 / 3 cross-department conversations
        "partners": 0,
        "betweenness": 0.0,
        "glue_score": 0.0,
    }
    assert by_department["Legal"] == idle
    assert by_department["Press"] == idle


def test_department_pairs(org_marts):
    pairs = {
        (r.pop("department_a"), r.pop("department_b")): r
        for r in rows(org_marts, "from marts.department_pairs")
    }
    assert list(pairs) == [
        ("Care", "Legal"),
        ("Care", "Marketing"),
        ("Care", "Press"),
        ("Care", "Sales"),
        ("Legal", "Marketing"),
        ("Legal", "Press"),
        ("Legal", "Sales"),
        ("Marketing", "Press"),
        ("Marketing", "Sales"),
        ("Press", "Sales"),
    ]
    nothing = {
        "shared_customers": 0,
        "co_handled_conversations": 0,
        "disjoint_shared_customers": 0,
        "handoffs_a_to_b": 0,
        "handoffs_b_to_a": 0,
        "referrals_a_to_b": 0,
        "referrals_b_to_a": 0,
    }
    # C(Care) = {x:c1, x:c2, reddit:c1}, C(Marketing) = {c1, c2, c3, c4}, C(Sales) = {c3, c4, c6}
    assert pairs["Care", "Marketing"] == {
        "shared_customers": 2,  # c1, c2
        "audience_jaccard": 0.4,  # 2 / (3 + 4 - 2)
        "co_handled_conversations": 2,  # 2, 3
        "disjoint_shared_customers": 0,  # c1 was in 2, c2 in 3
        "handoffs_a_to_b": 1,  # conversation 2
        "handoffs_b_to_a": 1,  # conversation 3
        "referrals_a_to_b": 1,  # message 2 ('@acme' on Reddit is no Marketing account)
        "referrals_b_to_a": 1,  # message 12, once though it names Care twice
    }
    assert pairs["Marketing", "Sales"] == {
        "shared_customers": 2,  # c3, c4
        "audience_jaccard": 0.4,  # 2 / (4 + 3 - 2)
        "co_handled_conversations": 1,  # 6
        "disjoint_shared_customers": 1,  # c3: Sales in 4, Marketing in 5, never together
        "handoffs_a_to_b": 1,
        "handoffs_b_to_a": 0,
        "referrals_a_to_b": 0,
        "referrals_b_to_a": 0,
    }
    assert pairs["Care", "Sales"] == {**nothing, "audience_jaccard": 0.0}  # 0 / 6
    for pair in [
        ("Care", "Legal"),
        ("Care", "Press"),
        ("Legal", "Marketing"),
        ("Legal", "Sales"),
        ("Marketing", "Press"),
        ("Press", "Sales"),
    ]:
        assert pairs[pair] == {**nothing, "audience_jaccard": 0.0}, pair
    # an empty union; the one referral is in conversation 9, which has no customer
    assert pairs["Legal", "Press"] == {**nothing, "audience_jaccard": None, "referrals_a_to_b": 1}


def test_org_verdict(org_marts):
    assert rows(org_marts, "from marts.org_verdict") == [
        {
            "window_start": None,
            "window_end": None,
            "customer_conversations": 9,  # 1-8 and r1
            "engaged_conversations": 8,  # all but 7
            "handled_conversations": 8,
            "cross_department_conversations": 3,  # 2, 3, 6
            "cross_department_share": 0.375,  # 3 / 8
            "org_ei_index": -0.25,  # (3 - 5) / 8
            "multi_department_customers": 4,  # c1, c2 (Care, Marketing), c3, c4 (Marketing, Sales)
            "fragmented_customers": 1,  # c3 was never in a cross-department conversation
            "fragmented_share": 0.25,
            "glue_department": "Marketing",  # glue_score 1.0, alone at the top, >= 0.5
            "verdict": "glued",  # 8 >= 8 engaged, 0.375 >= 0.05
        }
    ]


def test_brokerage_of_one_liaison(org_marts):
    # account edges: acmehelp -> acme (2), acme -> acmehelp (3), acme -> acmesales (6);
    # acme brokers (acmehelp, acmesales), three departments: a liaison
    brokerage = rows(
        org_marts,
        "from marts.brokerage where liaison + coordinator + "
        "gatekeeper + representative + itinerant > 0",
    )
    assert brokerage == [
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
    assert org_marts.execute("select count(*) from marts.brokerage").fetchone() == (6,)


def test_betweenness_matches_networkx():
    import networkx as nx

    # A square A-B-C-D with E hanging off A; F alone. By hand, with the normalisation
    # 1 / ((n - 1)(n - 2) / 2) = 1/10 for n = 6:
    #   A: 1/2 (B-D) + 1 (E-B) + 1 (E-C) + 1 (E-D) = 3.5 -> 0.35
    #   B: 1/2 (A-C) + 1/2 (E-C) = 1 -> 0.1;  D: the same -> 0.1;  C: 1/2 (B-D) -> 0.05
    edges = [("A", "B"), ("B", "C"), ("C", "D"), ("D", "A"), ("A", "E")]
    departments = {name: {"x": [name.lower()]} for name in "ABCDEF"}
    messages = [
        row
        for i, (a, b) in enumerate(edges)
        for row in chain(f"e{i}", f"customer{i}", a.lower(), b.lower())
    ]
    con = build(messages, departments)
    betweenness = dict(
        con.execute("select department, betweenness from marts.department_scorecard").fetchall()
    )
    expected = {"A": 0.35, "B": 0.1, "C": 0.05, "D": 0.1, "E": 0.0, "F": 0.0}
    assert betweenness == pytest.approx(expected)

    graph = nx.Graph(edges)
    graph.add_node("F")
    assert betweenness == pytest.approx(nx.betweenness_centrality(graph, normalized=True))
    # partners: A has B, D, E; glue: A's bridging share 3/5 with 3 partners
    assert con.execute(
        "select partners, glue_score from marts.department_scorecard where department = 'A'"
    ).fetchone() == (3, 0.6)


def test_brokerage_gould_fernandez_check_graph():
    # docs/metrics.md: edges A->B, A->C, B->C, B->D, C->D, D->A, groups {A, B}, {C, D}
    departments = {"G1": {"x": ["ga", "gb"]}, "G2": {"x": ["gc", "gd"]}}
    edges = [("ga", "gb"), ("ga", "gc"), ("gb", "gc"), ("gb", "gd"), ("gc", "gd"), ("gd", "ga")]
    messages = [
        row for i, (u, v) in enumerate(edges) for row in chain(f"e{i}", f"customer{i}", u, v)
    ]
    # A again to B, after A twice: the same edge, and no A -> A edge
    messages += chain("again", "customer9", "ga", "ga", "gb")
    # no customer here, so no edge C -> A (it would make C itinerant and A a gatekeeper twice)
    messages += [msg("org-only-1", "org-only", "gc", 0), msg("org-only-2", "org-only", "ga", 1)]
    con = build(messages, departments)
    assert con.execute(
        "select department, account, coordinator, gatekeeper, representative, itinerant, "
        "liaison from marts.brokerage"
    ).fetchall() == [
        ("G1", "ga", 0, 1, 0, 1, 0),
        ("G1", "gb", 0, 0, 1, 0, 0),
        ("G2", "gc", 0, 1, 0, 0, 0),
        ("G2", "gd", 0, 0, 1, 1, 0),
    ]
    # a handoff is a change of department, not of account
    assert dict(
        con.execute("select conversation_id, handoffs from marts.conversations").fetchall()
    ) == {
        "e0": 0,
        "e1": 1,
        "e2": 1,
        "e3": 1,
        "e4": 0,
        "e5": 1,
        "again": 0,
    }
    assert con.execute(
        "select handoffs_a_to_b, handoffs_b_to_a from marts.department_pairs"
    ).fetchall() == [(3, 1)]  # G1 -> G2 in e1, e2, e3; G2 -> G1 in e5


def test_brokerage_coordinator_and_liaison():
    departments = {"Red": {"x": ["r1", "r2", "r3"]}, "Green": {"x": ["g1"]}, "Blue": {"x": ["b1"]}}
    messages = (
        chain("1", "c1", "r1", "r2", "r3")  # r1 -> r2 -> r3, all Red
        + chain("2", "c2", "g1", "r1", "b1")  # g1 -> r1 -> b1
    )
    con = build(messages, departments)
    roles = {
        account: role
        for account, *role in con.execute(
            "select account, coordinator, gatekeeper, representative, itinerant, liaison "
            "from marts.brokerage"
        ).fetchall()
    }
    assert roles == {
        # r1: (g1, r2) Green -> Red -> Red is gatekeeping; (g1, b1) crosses three: liaison
        "r1": [0, 1, 0, 0, 1],
        # r2: (r1, r3) all Red, no r1 -> r3 edge: coordinating
        "r2": [1, 0, 0, 0, 0],
        "r3": [0, 0, 0, 0, 0],
        "g1": [0, 0, 0, 0, 0],
        "b1": [0, 0, 0, 0, 0],
    }
