"""The Reddit page format and staging, on hand-written Reddit API answers.

Shapes as Reddit sends them: a Listing (inbox, user listings, search), a comment tree
(GET /comments/<id>: a t3 Listing, then t1 comments with replies nested as Listings and
"more" stubs) and a morechildren answer ({"json": {"errors": [], "data": {"things"}}}).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ingest.landing import extract_to_landing
from ingest.load import load_landing
from ingest.pages import ExtractRequest, ResponsePage
from siloscope.config import OrgConfig
from transforms.build import BuildWindow, build_models

UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
REQUEST = ExtractRequest("reddit", "AcmeSupport", UNTIL, datetime(2026, 10, 1, tzinfo=UTC))
NEXT_NIGHT = replace(REQUEST, until=UNTIL + timedelta(days=1))
T0 = 1793520000.0  # 2026-11-01T08:00:00Z

CONFIG = OrgConfig.model_validate(
    {
        "organization": "Acme",
        "departments": [
            {"name": "Care", "accounts": {"reddit": ["u/AcmeSupport"]}},
            {"name": "Marketing", "accounts": {"reddit": ["AcmeBrand"]}},
        ],
    }
)


def submission(sid: str, author: str, title: str, minute: int, selftext: str = "") -> dict:
    return {
        "kind": "t3",
        "data": {
            "id": sid,
            "name": f"t3_{sid}",
            "author": author,
            "title": title,
            "selftext": selftext,
            "created_utc": T0 + 60 * minute,
            "subreddit": "acme",
            "permalink": f"/r/acme/comments/{sid}/slug/",
            "num_comments": 3,
        },
    }


def comment(cid: str, author: str, body: str, minute: int, parent: str, link: str | None, **extra):
    data = {
        "id": cid,
        "name": f"t1_{cid}",
        "author": author,
        "body": body,
        "created_utc": T0 + 60 * minute,
        "parent_id": parent,
        "subreddit": "acme",
        "replies": "",
    }
    if link is not None:
        data["link_id"] = link
    data.update(extra)
    return {"kind": "t1", "data": data}


def listing(*things: dict, after: str | None = None) -> dict:
    return {"kind": "Listing", "data": {"after": after, "children": list(things), "before": None}}


def with_replies(thing: dict, *replies: dict) -> dict:
    thing["data"]["replies"] = listing(*replies)
    return thing


def without(thing: dict, key: str) -> dict:
    del thing["data"][key]
    return thing


def more(parent: str, *children: str) -> dict:
    return {
        "kind": "more",
        "data": {
            "count": len(children),
            "name": f"t1_{children[0]}",
            "id": children[0],
            "parent_id": parent,
            "depth": 1,
            "children": list(children),
        },
    }


def body(document) -> bytes:
    return json.dumps(document).encode()


def mentions_page() -> bytes:
    """An inbox listing: comment messages carry a context path, not a link_id."""
    return body(
        listing(
            comment(
                "c1",
                "Alice",
                "u/AcmeSupport my order?",
                1,
                "t3_s1",
                None,
                context="/r/acme/comments/s1/slug/c1/?context=3",
                type="username_mention",
                was_comment=True,
            )
        )
    )


def thread_page() -> bytes:
    """GET /comments/s1: the submission, c1 with two nested levels, a deleted and a removed
    comment, and a "load more comments" stub."""
    tree = listing(
        with_replies(
            comment("c1", "Alice", "u/AcmeSupport my order?", 1, "t3_s1", "t3_s1"),
            with_replies(
                comment("c2", "AcmeSupport", "On it", 5, "t1_c1", "t3_s1"),
                comment("c3", "alice", "thanks!", 7, "t1_c2", "t3_s1"),
            ),
            more("t1_c1", "c6", "c7"),
        ),
        comment("c4", "[deleted]", "[deleted]", 9, "t3_s1", "t3_s1"),
        comment("c5", "[deleted]", "[removed]", 10, "t3_s1", "t3_s1"),
    )
    return body([listing(submission("s1", "Alice", "Parcel late", 0, "Ordered last week")), tree])


def morechildren_page() -> bytes:
    return body(
        {
            "json": {
                "errors": [],
                "data": {
                    "things": [
                        comment("c6", "bob", "me too", 11, "t1_c1", "t3_s1"),
                        comment("c7", "AcmeBrand", "we can help", 12, "t1_c1", "t3_s1"),
                        more("t1_c7", "c8"),
                    ]
                },
            }
        }
    )


class Pages:
    """A Reddit PageSource serving fixed bodies, each under its endpoint."""

    platform = "reddit"

    def __init__(self, *pages: tuple[str, bytes]):
        self.fixed = pages

    def pages(self, request, result):
        for endpoint, page_body in self.fixed:
            result.requests += 1
            yield ResponsePage(endpoint, page_body)


GOOD_PAGES = (
    ("mentions", mentions_page()),
    ("threads", thread_page()),
    ("threads", morechildren_page()),
)


def count(con, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


def test_every_comment_and_submission_loads_nested_replies_included(con, landing):
    extract_to_landing(Pages(*GOOD_PAGES), REQUEST, landing, "run-1", "test")
    report = load_landing(con, landing)

    rows = con.execute(
        "select fullname, kind, account from raw.reddit_things order by 1"
    ).fetchall()
    assert [r[0] for r in rows] == [
        "t1_c1", "t1_c2", "t1_c3", "t1_c4", "t1_c5", "t1_c6", "t1_c7", "t3_s1",
    ]  # fmt: skip
    assert {r[2] for r in rows} == {"AcmeSupport"}
    # c1 arrived twice (inbox, then tree): once loaded, once a duplicate; "more" is neither
    assert (report.records_loaded, report.records_duplicate, report.records_rejected) == (8, 1, 0)
    assert count(con, "ops.rejects") == 0
    # the row is the thing's data as received, without the nested replies
    c1 = con.execute("select record from raw.reddit_things where fullname = 't1_c1'").fetchone()
    record = json.loads(c1[0])
    assert "replies" not in record
    assert record["context"] == "/r/acme/comments/s1/slug/c1/?context=3"  # inbox copy won
    files = con.execute(
        "select endpoint, records_received, records_loaded from ops.loaded_files order by 1, 2"
    ).fetchall()
    assert files == [("mentions", 1, 1), ("threads", 2, 2), ("threads", 6, 5)]


def test_the_same_pages_loaded_twice_are_counted_once(con, landing):
    extract_to_landing(Pages(*GOOD_PAGES), REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    extract_to_landing(Pages(*GOOD_PAGES), NEXT_NIGHT, landing, "run-2", "test")
    second = load_landing(con, landing)
    assert count(con, "raw.reddit_things") == 8
    assert count(con, "(select distinct fullname from raw.reddit_things)") == 8
    assert (second.records_loaded, second.records_duplicate) == (0, 9)


def test_broken_things_are_rejected_with_reasons_and_the_rest_loads(con, landing):
    page = body(
        listing(
            comment("ok1", "alice", "fine", 1, "t3_s1", "t3_s1"),
            without(comment("noauthor", "x", "b", 1, "t3_s1", "t3_s1"), "author"),
            comment("badparent", "bob", "b", 1, "s1", "t3_s1"),
            comment("nosub", "bob", "b", 1, "t3_s1", None),
            comment("when", "bob", "b", 1, "t3_s1", "t3_s1", created_utc="yesterday"),
            comment("Upper", "bob", "b", 1, "t3_s1", "t3_s1"),
            comment("misnamed", "bob", "b", 1, "t3_s1", "t3_s1", name="t1_other"),
            {"kind": "t4", "data": {"id": "m1", "author": "bob", "body": "private"}},
            {"kind": "t3", "data": {"id": "s9", "author": "bob", "created_utc": T0}},
            "not a thing",
            comment("ok2", "alice", "fine too", 2, "t1_ok1", "t3_s1"),
        )
    )
    extract_to_landing(Pages(("comments", page)), REQUEST, landing, "run-1", "test")
    report = load_landing(con, landing)

    loaded = con.execute("select fullname from raw.reddit_things order by 1").fetchall()
    assert loaded == [("t1_ok1",), ("t1_ok2",)]
    rejects = con.execute("select record_path, reason from ops.rejects order by 1").fetchall()
    assert rejects == [
        ("data.children[1]", "missing author"),
        ("data.children[2]", "parent_id is not a t1_ or t3_ fullname: s1"),
        ("data.children[3]", "no submission: neither a link_id nor a context path"),
        ("data.children[4]", "created_utc is not a number: yesterday"),
        ("data.children[5]", "id is not base 36"),
        ("data.children[6]", "name t1_other does not match kind and id"),
        ("data.children[7]", "kind t4 is not a comment (t1) or submission (t3)"),
        ("data.children[8]", "missing title"),
        ("data.children[9]", "thing is not a JSON object"),
    ]
    assert (report.records_loaded, report.records_rejected) == (2, 9)


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (b'{"kind": "Listing", "data": {"children": [', None),  # truncated: DuckDB's message
        (b'"just a string"', "page is not a JSON object or array"),
        (body({"kind": "Listing", "data": {}}), "Listing without a data.children array"),
        (body([listing(), {"kind": "t3"}]), "comment tree: every element must be a Listing"),
        (
            body({"json": {"errors": [["RATELIMIT", "you are doing that too much", "ratelimit"]]}}),
            "Reddit API errors: ",
        ),
        (body({"message": "Forbidden", "error": 403}), "not a Reddit Listing, comment tree"),
    ],
)
def test_a_page_that_is_not_a_reddit_answer_is_rejected_whole(con, landing, page, reason):
    extract_to_landing(
        Pages(("mentions", mentions_page()), ("threads", page)), REQUEST, landing, "r", "test"
    )
    report = load_landing(con, landing)
    assert count(con, "raw.reddit_things") == 1  # the good page still loads
    (record_path, stored_reason, record), *others = con.execute(
        "select record_path, reason, record from ops.rejects"
    ).fetchall()
    assert others == [] and record_path is None
    if reason is not None:
        assert stored_reason.startswith(reason)
    assert record  # the page as received is kept
    assert report.pages_rejected == 1


def test_staging_maps_reddit_into_the_platform_neutral_messages(con, landing):
    extract_to_landing(Pages(*GOOD_PAGES), REQUEST, landing, "run-1", "test")
    load_landing(con, landing)
    build_models(con, CONFIG.for_models(), BuildWindow.everything())

    rows = con.execute(
        "select message_id, conversation_id, parent_id, author_id, author_handle, text "
        "from intermediate.int_messages_unioned where platform = 'reddit' order by message_id"
    ).fetchall()
    # fullnames: comment (t1_) and submission (t3_) ids come from separate counters
    assert rows == [
        ("t1_c1", "t3_s1", "t3_s1", "alice", "alice", "u/AcmeSupport my order?"),
        ("t1_c2", "t3_s1", "t1_c1", "acmesupport", "acmesupport", "On it"),
        ("t1_c3", "t3_s1", "t1_c2", "alice", "alice", "thanks!"),
        ("t1_c4", "t3_s1", "t3_s1", None, None, "[deleted]"),
        ("t1_c5", "t3_s1", "t3_s1", None, None, "[removed]"),
        ("t1_c6", "t3_s1", "t1_c1", "bob", "bob", "me too"),
        ("t1_c7", "t3_s1", "t1_c1", "acmebrand", "acmebrand", "we can help"),
        ("t3_s1", "t3_s1", None, "alice", "alice", "Parcel late\n\nOrdered last week"),
    ]
    created = con.execute(
        "select created_at from intermediate.int_messages_unioned where message_id = 't3_s1'"
    ).fetchone()[0]
    assert created == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    kinds = dict(
        con.execute(
            "select message_id, author_kind from intermediate.int_messages "
            "where platform = 'reddit'"
        ).fetchall()
    )
    assert kinds["t1_c4"] == kinds["t1_c5"] == "unknown"  # deleted, removed: never customers
    assert (kinds["t1_c2"], kinds["t1_c7"], kinds["t1_c6"]) == ("org", "org", "customer")
    conversation = con.execute(
        "select departments_engaged, customer_messages, handoffs from marts.conversations "
        "where platform = 'reddit' and conversation_id = 't3_s1'"
    ).fetchone()
    departments, customer_messages, handoffs = conversation
    assert sorted(departments) == ["Care", "Marketing"]
    assert customer_messages == 4  # s1, c1, c3 by alice; c6 by bob
    assert handoffs == 1
