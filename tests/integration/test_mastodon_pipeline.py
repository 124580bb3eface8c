"""`siloscope run --source mastodon` end to end against the fake instance, the token from
the environment: extract, load, reconcile, build, validate, publish; a second run of the
same night adds nothing."""

from __future__ import annotations

import duckdb
import yaml

from siloscope.cli import main as siloscope
from tests.integration.fake_mastodon_api import FakeMastodonApi
from tests.integration.test_mastodon_source import CARE, TOKEN, TOOTS

TABLES = ("raw.mastodon_statuses", "ops.extract_runs", "ops.rejects", "marts.conversations")


def counts(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def test_run_source_mastodon_builds_the_marts_and_a_second_run_adds_nothing(
    tmp_path, monkeypatch, capsys
):
    config = tmp_path / "org.yaml"
    document = {
        "organization": "Acme",
        "departments": [
            {"name": "Care", "accounts": {"mastodon": [f"@{CARE}"]}},
            {"name": "Marketing", "accounts": {"mastodon": ["@acme@mastodon.social"]}},
        ],
        "thresholds": {"min_conversations": 1},
    }
    config.write_text(yaml.safe_dump(document))
    db = tmp_path / "siloscope.duckdb"
    command = ["run", "--config", str(config), "--db", str(db), "--source", "mastodon"]
    with FakeMastodonApi("mastodon.social", list(TOOTS), {TOKEN: CARE}) as api:
        api.tokens["unused"] = "acme@mastodon.social"  # Marketing exists, without a token here
        monkeypatch.setenv("SILOSCOPE_MASTODON_BASE_URL", api.base_url)
        monkeypatch.setenv("SILOSCOPE_MASTODON_TOKEN__ACMEHELP_MASTODON_SOCIAL", TOKEN)
        assert siloscope([*command, "--date", "2026-11-02"]) == 0, capsys.readouterr().err
        first = counts(db)
        assert api.served > 0
        assert siloscope([*command, "--date", "2026-11-02"]) == 0
        # the second run of the night is a run of its own in ops; no data row is added
        assert counts(db) == {**first, "ops.extract_runs": 2 * first["ops.extract_runs"]}
    assert TOKEN not in capsys.readouterr().out
    assert first["raw.mastodon_statuses"] == len(TOOTS) and first["ops.rejects"] == 0
    with duckdb.connect(str(db), read_only=True) as con:
        kinds = con.execute(
            "select author_kind, count(*) from intermediate.int_messages group by 1 order by 1"
        ).fetchall()
        conversations = con.execute(
            "select count(distinct conversation_id) from intermediate.int_messages"
        ).fetchone()[0]
        ceilings = con.execute(
            "select ceilings from ops.extract_runs where account = 'acme@mastodon.social'"
        ).fetchone()[0]
    assert kinds == [("customer", 9), ("org", 3)]
    assert conversations == 3  # the roots of the reply chains
    assert any(c.startswith("mentions: no access token") for c in ceilings)
