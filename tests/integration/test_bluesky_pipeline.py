"""`siloscope run --source bluesky` end to end against the fake Bluesky, credentials from
the environment: extract, load, reconcile, build, validate, publish."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from siloscope.cli import main as siloscope
from tests.integration.fake_bluesky_api import FakeBlueskyApi
from tests.integration.test_bluesky_source import CARE, PASSWORD, POSTS

TABLES = ("raw.bluesky_posts", "raw.bluesky_identities", "ops.extract_runs", "ops.rejects")


@pytest.fixture
def org(tmp_path):
    config = tmp_path / "org.yaml"
    document = {
        "organization": "Acme",
        "departments": [
            {"name": "Care", "accounts": {"bluesky": [CARE]}},
            {"name": "Marketing", "accounts": {"bluesky": ["acme.com"]}},
        ],
        "thresholds": {"min_conversations": 1},
    }
    config.write_text(yaml.safe_dump(document))
    return config


def counts(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def test_run_source_bluesky_lands_loads_builds_and_a_second_run_adds_nothing(
    tmp_path, org, monkeypatch, capsys
):
    db = tmp_path / "siloscope.duckdb"
    with FakeBlueskyApi(list(POSTS), {CARE: PASSWORD}) as api:
        monkeypatch.setenv("SILOSCOPE_BLUESKY_BASE_URL", api.base_url)
        monkeypatch.setenv("SILOSCOPE_BLUESKY_HANDLE__ACMEHELP_BSKY_SOCIAL", CARE)
        monkeypatch.setenv("SILOSCOPE_BLUESKY_APP_PASSWORD__ACMEHELP_BSKY_SOCIAL", PASSWORD)
        command = ["run", "--config", str(org), "--db", str(db), "--source", "bluesky"]
        # acme.com has an account on the fake (it resolves) but no app password here
        api.app_passwords["acme.com"] = "unused-pass-word-0000"
        assert siloscope([*command, "--date", "2026-11-02"]) == 0, capsys.readouterr().err
        first = counts(db)
        assert api.served > 0
        assert siloscope([*command, "--date", "2026-11-02"]) == 0
        again = counts(db)
        # the second run of the night is a run of its own in ops; no data row is added
        assert again == {**first, "ops.extract_runs": 2 * first["ops.extract_runs"]}
    out = capsys.readouterr().out
    assert "verdict:" in out and PASSWORD not in out
    assert first["raw.bluesky_posts"] == len(POSTS) and first["ops.rejects"] == 0
    with duckdb.connect(str(db), read_only=True) as con:
        runs = con.execute(
            "select account, complete, ceilings from ops.extract_runs order by account"
        ).fetchall()
        kinds = con.execute(
            "select author_kind, count(*) from intermediate.int_messages group by 1 order by 1"
        ).fetchall()
        problems = con.execute(
            "select count(*) from ops.reconciliations where problem is not null"
        ).fetchone()[0]
    assert [(account, complete) for account, complete, _ in runs] == [
        ("acme.com", True), ("acme.com", True), (CARE, True), (CARE, True),
    ]  # fmt: skip
    # acme.com has no app password of its own: its mentions were searched, the gap shown
    assert any(c.startswith("mentions: no app password") for c in runs[0][2])
    assert kinds == [("customer", 9), ("org", 3)]
    assert problems == 0
