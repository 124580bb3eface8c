"""The Bluesky page format and staging, on XRPC answers shaped as the AppView sends them.

Answers: listNotifications (mentions, replies, quotes), getAuthorFeed (feed items with
their reply context), searchPosts and getPostThread (a threadViewPost with nested replies
and a not-found node), and resolveHandle ({"did": ...}).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ingest.landing import extract_to_landing
from ingest.load import load_landing
from ingest.pages import ExtractRequest, ResponsePage
from ingest.reconcile import reconcile_runs
from siloscope.config import OrgConfig
from tests.bluesky_shapes import NOT_FOUND_NODE, Post, did_of, thread_view
from transforms.build import BuildWindow, build_models

UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
REQUEST = ExtractRequest("bluesky", "acmehelp.bsky.social", UNTIL, UNTIL - timedelta(days=28))
T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)

CONFIG = OrgConfig.model_validate(
    {
        "organization": "Acme",
        "departments": [
            {"name": "Care", "accounts": {"bluesky": ["acmehelp.bsky.social"]}},
            {"name": "Marketing", "accounts": {"bluesky": ["@acme.com"]}},
        ],
    }
)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


# A customer asks Marketing; Marketing refers them to Care (a mention facet); Care answers.
QUESTION = Post(
    "3la1", "jenny.bsky.social", "@acme.com my parcel is late", at(0), None, ["acme.com"]
)
REFERRAL = Post(
    "3la2", "acme.com", "@jenny.bsky.social @acmehelp.bsky.social can help", at(5), QUESTION,
    ["jenny.bsky.social", "acmehelp.bsky.social"],
)  # fmt: skip
ANSWER = Post("3la3", "acmehelp.bsky.social", "On it, Jenny", at(9), REFERRAL)
THANKS = Post("3la4", "jenny.bsky.social", "thanks! 🎉", at(12), ANSWER)
THREAD = [QUESTION, REFERRAL, ANSWER, THANKS]


def body(document) -> bytes:
    return json.dumps(document).encode()


def good_pages() -> list[tuple[str, bytes]]:
    return [
        ("identity", body({"did": did_of("acmehelp.bsky.social")})),
        (
            "mentions",
            body({"notifications": [REFERRAL.notification("mention")], "cursor": "c1"}),
        ),
        ("posts", body({"feed": [ANSWER.feed_item()]})),
        ("threads", body({"thread": thread_view(QUESTION, THREAD)})),
    ]


class Pages:
    """A Bluesky PageSource serving fixed bodies, each under its endpoint."""

    platform = "bluesky"

    def __init__(self, pages: list[tuple[str, bytes]], request: ExtractRequest = REQUEST):
        self.fixed = pages

    def pages(self, request, result):
        for endpoint, page_body in self.fixed:
            result.requests += 1
            yield ResponsePage(endpoint, page_body)


def land(landing, pages, run_id="run-1", request=REQUEST):
    return extract_to_landing(Pages(pages), request, landing, run_id, "test")


def count(con, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


def test_every_post_loads_nested_replies_included_and_each_uri_once(con, landing):
    land(landing, good_pages())
    report = load_landing(con, landing)

    uris = [
        row[0] for row in con.execute("select uri from raw.bluesky_posts order by 1").fetchall()
    ]
    assert uris == sorted(post.uri for post in THREAD)
    # REFERRAL and ANSWER arrive twice (notification or feed, then the thread)
    assert (report.records_loaded, report.records_duplicate, report.records_rejected) == (4, 2, 0)
    assert con.execute("select handle, did from raw.bluesky_identities").fetchall() == [
        ("acmehelp.bsky.social", did_of("acmehelp.bsky.social"))
    ]
    assert count(con, "ops.rejects") == 0
    (result,) = reconcile_runs(con, landing, UNTIL)
    assert result.problem is None and result.records_fetched == 6


def test_the_same_pages_loaded_twice_are_counted_once(con, landing):
    land(landing, good_pages(), "run-1")
    load_landing(con, landing)
    next_night = ExtractRequest(REQUEST.platform, REQUEST.account, UNTIL + timedelta(days=1), T0)
    land(landing, good_pages(), "run-2", next_night)
    second = load_landing(con, landing)
    assert second.records_loaded == 0 and second.records_duplicate == 6
    assert count(con, "raw.bluesky_posts") == count(
        con, "(select distinct uri from raw.bluesky_posts)"
    )
    assert count(con, "raw.bluesky_posts") == 4


def test_a_thread_skips_not_found_nodes_and_follows_parents(con, landing):
    thread = thread_view(REFERRAL, THREAD)
    thread["parent"] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": QUESTION.view()}
    thread["replies"].append(NOT_FOUND_NODE)
    land(landing, [("threads", body({"thread": thread}))])
    report = load_landing(con, landing)
    assert (report.records_loaded, report.records_rejected) == (4, 0)
    paths = {row[0] for row in con.execute("select landing_file from raw.bluesky_posts").fetchall()}
    assert len(paths) == 1


def broken(post: Post, change) -> dict:
    view = post.view()
    change(view)
    return view


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda v: v.pop("uri"), "missing uri"),
        (lambda v: v.update(uri="https://bsky.app/x"), "uri is not the AT URI of a post"),
        (lambda v: v["author"].pop("did"), "missing author.did"),
        (
            lambda v: v["author"].update(did="did:plc:someoneelse"),
            "is not the repository of the uri",
        ),
        (lambda v: v["record"].update({"$type": "app.bsky.feed.like"}), "record is a app.bsky"),
        (lambda v: v["record"].pop("text"), "missing record.text"),
        (lambda v: v["record"].update(createdAt="yesterday"), "record.createdAt is not a"),
        (lambda v: v.update(indexedAt=None), "indexedAt is not a timestamp"),
        (lambda v: v["record"].update(reply={"parent": {}}), "record.reply without root.uri"),
    ],
)
def test_a_broken_post_is_rejected_with_its_reason_and_the_rest_loads(con, landing, change, reason):
    page = {"posts": [broken(QUESTION, change), ANSWER.view()]}
    land(landing, [("mentions", body(page))])
    report = load_landing(con, landing)
    assert (report.records_loaded, report.records_rejected) == (1, 1)
    (row,) = con.execute("select record_path, reason, record from ops.rejects").fetchall()
    assert row[0] == "posts[0]" and reason in row[1]
    assert json.loads(row[2])["cid"] == QUESTION.cid  # kept as received
    (result,) = reconcile_runs(con, landing, UNTIL)
    assert result.problem is None


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (b"[1, 2]", "page is not a JSON object"),
        (b'{"error": "InternalServerError"}', "not a Bluesky listNotifications"),
        (b'{"did": "plc:abc"}', "is not a DID"),
    ],
)
def test_a_page_that_is_not_a_bluesky_answer_is_rejected_whole(con, landing, page, reason):
    land(landing, [("mentions", page)])
    report = load_landing(con, landing)
    assert report.pages_rejected == 1
    (row,) = con.execute("select record_path, reason from ops.rejects").fetchall()
    assert row[0] is None and reason in row[1]


def test_staging_keys_on_dids_threads_on_roots_and_reads_mentions_from_facets(con, landing):
    # Marketing's handle changed after it was resolved: its posts still count as the org's
    renamed = Post("3la2", "acme.com", REFERRAL.text, at(5), QUESTION, REFERRAL.mentions)
    view = renamed.view()
    view["author"]["handle"] = "acme-new-name.com"
    land(landing, [*good_pages(), ("posts", body({"posts": [view]}))])
    request = ExtractRequest("bluesky", "acme.com", UNTIL, UNTIL - timedelta(days=28))
    land(landing, [("identity", body({"did": did_of("acme.com")}))], "run-3", request)
    load_landing(con, landing)
    build_models(con, CONFIG.for_models(), BuildWindow.everything())

    rows = con.execute(
        "select message_id, conversation_id, parent_id, author_id, author_kind, department, "
        "created_at from intermediate.int_messages where platform = 'bluesky' order by created_at"
    ).fetchall()
    assert [r[0] for r in rows] == [p.uri for p in THREAD]
    assert {r[1] for r in rows} == {QUESTION.uri}
    assert [r[2] for r in rows] == [None, QUESTION.uri, REFERRAL.uri, ANSWER.uri]
    assert rows[0][3] == did_of("jenny.bsky.social")
    assert [(r[4], r[5]) for r in rows] == [
        ("customer", None), ("org", "Marketing"), ("org", "Care"), ("customer", None),
    ]  # fmt: skip
    assert rows[0][6] == QUESTION.created_at  # the earlier of createdAt and indexedAt
    pairs = con.execute(
        "select referrals_a_to_b, referrals_b_to_a from marts.department_pairs"
    ).fetchall()
    assert pairs == [(0, 1)]  # Marketing (b) referred to Care (a), read from the facet
