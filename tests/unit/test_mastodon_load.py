"""The Mastodon page format and staging, on answers shaped as an instance sends them:
notifications (each holding its status), an account's statuses, and a status context."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ingest.landing import extract_to_landing
from ingest.load import load_landing
from ingest.pages import ExtractRequest, ResponsePage
from ingest.reconcile import reconcile_runs
from siloscope.config import OrgConfig
from tests.mastodon_shapes import Toot, context
from transforms.build import BuildWindow, build_models

CARE, MARKETING = "acmehelp@mastodon.social", "acme@acme.social"
UNTIL = datetime(2026, 11, 2, tzinfo=UTC)
T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
CONFIG = OrgConfig.model_validate(
    {
        "organization": "Acme",
        "departments": [
            {"name": "Care", "accounts": {"mastodon": [f"@{CARE}"]}},
            {"name": "Marketing", "accounts": {"mastodon": [f"@{MARKETING}"]}},
        ],
    }
)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


QUESTION = Toot(
    "q", "jenny@fosstodon.org", f"@{MARKETING} parcel late & lost <sigh>", at(0), None, [MARKETING]
)
REFERRAL = Toot(
    "r",
    MARKETING,
    f"@jenny@fosstodon.org @{CARE} can help",
    at(5),
    QUESTION,
    ["jenny@fosstodon.org", CARE],
)
ANSWER = Toot("a", CARE, "On it, Jenny", at(9), REFERRAL)
THANKS = Toot("t", "jenny@fosstodon.org", "thanks!", at(12), ANSWER)
THREAD = [QUESTION, REFERRAL, ANSWER, THANKS]  # fmt: skip


def request(account: str, night: datetime = UNTIL) -> ExtractRequest:
    return ExtractRequest("mastodon", f"@{account}", night, night - timedelta(days=28))


def body(document) -> bytes:
    return json.dumps(document).encode()


class Pages:
    platform = "mastodon"

    def __init__(self, pages):
        self.fixed = pages

    def pages(self, request, result):
        for endpoint, page_body in self.fixed:
            result.requests += 1
            yield ResponsePage(endpoint, page_body)


def care_pages() -> list[tuple[str, bytes]]:
    """Care's instance (mastodon.social) numbers every status its own way."""
    home = "mastodon.social"
    return [
        ("mentions", body([REFERRAL.notification(home)])),
        ("statuses", body([ANSWER.status(home)])),
        ("threads", body(context(QUESTION, THREAD, home))),
    ]


def marketing_pages() -> list[tuple[str, bytes]]:
    home = "acme.social"
    return [
        ("mentions", body([QUESTION.notification(home)])),
        ("statuses", body([REFERRAL.status(home)])),
        ("threads", body(context(QUESTION, THREAD, home))),
    ]


def land(landing, account, pages, run_id="run-1", night=UNTIL):
    extract_to_landing(Pages(pages), request(account, night), landing, run_id, "test")


def test_statuses_load_once_per_instance_and_the_books_balance(con, landing):
    land(landing, CARE, care_pages())
    report = load_landing(con, landing)
    # the context of the root holds the other three; REFERRAL and ANSWER came twice
    assert (report.records_loaded, report.records_duplicate, report.records_rejected) == (3, 2, 0)
    # the root itself is not in its own context: the source fetches it with a reply's
    land(landing, MARKETING, marketing_pages())
    second = load_landing(con, landing)
    assert second.records_loaded == 4  # acme.social's copies: its own numbers
    rows = con.execute(
        "select instance, count(*), count(distinct uri) from raw.mastodon_statuses "
        "group by 1 order by 1"
    ).fetchall()
    assert rows == [("acme.social", 4, 4), ("mastodon.social", 3, 3)]
    assert all(r.problem is None for r in reconcile_runs(con, landing, UNTIL))


def test_the_same_pages_loaded_twice_are_counted_once(con, landing):
    land(landing, CARE, care_pages())
    load_landing(con, landing)
    land(landing, CARE, care_pages(), "run-2", UNTIL + timedelta(days=1))
    again = load_landing(con, landing)
    assert again.records_loaded == 0 and again.records_duplicate == 5
    assert con.execute("select count(*) from raw.mastodon_statuses").fetchone() == (3,)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.pop("id"), "missing id"),
        (lambda s: s.update(id="abc"), "id is not a number"),
        (lambda s: s.pop("uri"), "missing uri"),
        (lambda s: s["account"].pop("acct"), "missing account.acct"),
        (lambda s: s.update(created_at="soon"), "created_at is not a timestamp"),
        (lambda s: s.update(content=None), "missing content"),
        (lambda s: s.update(in_reply_to_id="x1"), "in_reply_to_id is not a number"),
    ],
)
def test_a_broken_status_is_rejected_with_its_reason_and_the_rest_loads(
    con, landing, change, reason
):
    broken = ANSWER.status("mastodon.social")
    change(broken)
    land(landing, CARE, [("statuses", body([broken, THANKS.status("mastodon.social")]))])
    report = load_landing(con, landing)
    assert (report.records_loaded, report.records_rejected) == (1, 1)
    (row,) = con.execute("select record_path, reason from ops.rejects").fetchall()
    assert row == ("[0]", row[1]) and reason in row[1]


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (b'{"error": "The access token is invalid"}', "Mastodon API error"),
        (b'{"id": "1"}', "not a Mastodon list"),
        (b"17", "not a Mastodon list"),
    ],
)
def test_a_page_that_is_not_a_mastodon_answer_is_rejected_whole(con, landing, page, reason):
    land(landing, CARE, [("statuses", page)])
    assert load_landing(con, landing).pages_rejected == 1
    (row,) = con.execute("select record_path, reason from ops.rejects").fetchall()
    assert row[0] is None and reason in row[1]


def test_staging_keys_on_uris_threads_on_reply_chains_and_reads_mentions(con, landing):
    land(landing, CARE, care_pages())
    land(landing, MARKETING, marketing_pages())
    load_landing(con, landing)
    build_models(con, CONFIG.for_models(), BuildWindow.everything())
    rows = con.execute(
        "select message_id, conversation_id, parent_id, author_id, author_kind, department, text "
        "from intermediate.int_messages where platform = 'mastodon' order by created_at"
    ).fetchall()
    assert [r[0] for r in rows] == [t.uri for t in THREAD]  # one row per status, not per copy
    assert {r[1] for r in rows} == {QUESTION.uri}  # the root of the reply chain
    assert [r[2] for r in rows] == [None, QUESTION.uri, REFERRAL.uri, ANSWER.uri]
    assert [(r[3], r[4], r[5]) for r in rows] == [
        ("jenny@fosstodon.org", "customer", None),
        (MARKETING, "org", "Marketing"),
        (CARE, "org", "Care"),
        ("jenny@fosstodon.org", "customer", None),
    ]
    assert rows[0][6] == "@acme parcel late & lost <sigh>"  # HTML to text, entities decoded
    pairs = con.execute("select referrals_a_to_b, referrals_b_to_a from marts.department_pairs")
    assert pairs.fetchall() == [(0, 1)]  # Marketing (b) referred to Care (a): the mentions array
