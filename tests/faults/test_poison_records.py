"""Fault 4: one record that would break a critical expectation, in an otherwise good night."""

import json

import duckdb
import pytest

from ingest.pages import ResponsePage
from siloscope import pipeline
from siloscope.pipeline import run_all
from tests.faults.nights import night, organisation, run_id

POISON = [
    # a post from the year 9999: "dates not in the future" would fail every night after
    {
        "id": "990001",
        "text": "from the future",
        "author_id": "77",
        "conversation_id": "990001",
        "created_at": "9999-12-31T00:00:00.000Z",
    },
    # a post without its conversation: "conversation_id not null" would fail the same way
    {
        "id": "990002",
        "text": "no thread",
        "author_id": "77",
        "created_at": "2026-11-01T10:00:00.000Z",
    },
]


class WithPoisonPage:
    """The simulated source, with one more page for AcmeHelp carrying the poison records."""

    platform = "x"

    def __init__(self, source):
        self.source = source

    def pages(self, request, result):
        yield from self.source.pages(request, result)
        if request.account == "AcmeHelp":
            users = [{"id": "77", "username": "Prankster", "name": "P"}]
            body = {"data": POISON, "includes": {"users": users}, "meta": {"result_count": 2}}
            yield ResponsePage("mentions", json.dumps(body).encode())


@pytest.fixture
def poisoned(monkeypatch):
    make_source = pipeline.make_source
    monkeypatch.setattr(pipeline, "make_source", lambda *args: WithPoisonPage(make_source(*args)))


def test_a_poison_record_is_set_aside_and_the_nights_go_on(tmp_path, poisoned):
    settings = organisation(tmp_path)
    for number in (0, 1):
        until = night(number)
        run_all(settings, run_id(until), until)  # built, validated and published
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        rejects = con.execute(
            "select reason, landing_file like '%/x/AcmeHelp/%' from ops.rejects "
            "where resolved_at is null order by record_path, rejected_at"
        ).fetchall()
        assert [reason.split(":")[0] for reason, _ in rejects] == [
            "created_at is in the future",
            "created_at is in the future",
            "missing conversation_id",
            "missing conversation_id",
        ]
        assert all(in_its_landing_file for _, in_its_landing_file in rejects)
        assert (
            con.execute(
                "select count(*) from raw.x_posts where id in ('990001', '990002')"
            ).fetchone()[0]
            == 0
        )
        # counted in reconciliation: both nights balance with the poison as rejected
        books = con.execute(
            "select balanced, records_rejected from ops.reconciliations "
            "where account = 'AcmeHelp' order by until"
        ).fetchall()
        assert books == [(True, 2), (True, 2)]
