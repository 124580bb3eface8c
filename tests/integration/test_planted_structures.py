"""The simulator plants a structure; the pipeline, end to end, must find it."""

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from siloscope.cli import main as siloscope
from siloscope.pipeline import run_all
from siloscope.settings import Settings

REPO = Path(__file__).resolve().parents[2]
NIGHT = datetime(2026, 11, 1, tzinfo=UTC)


# The example organisation's X handles moved to another platform: AcmeHelp becomes
# acmehelp.bsky.social on Bluesky, @acmehelp@acme.social on Mastodon.
MOVED = {
    "bluesky": lambda handle: f"{handle.lower()}.bsky.social",
    "mastodon": lambda handle: f"@{handle.lower()}@acme.social",
}


def moved_to(document: dict, platform: str) -> dict:
    def handles(accounts: dict) -> dict:
        return {platform: [MOVED[platform](handle) for handle in accounts["x"]]}

    for department in document["departments"]:
        department["accounts"] = handles(department["accounts"])
    document["ignore_accounts"] = handles(document["ignore_accounts"])
    document["sources"] = {platform: "simulated"}
    return document


def settings_for(tmp_path: Path, platform: str = "x", **simulation) -> Settings:
    document = yaml.safe_load((REPO / "config" / "acme.yaml").read_text())
    document["simulation"] = {**document["simulation"], **simulation}
    if platform != "x":
        document = moved_to(document, platform)
    config = tmp_path / "org.yaml"
    config.write_text(yaml.safe_dump(document))
    return Settings.resolve(config, tmp_path / "siloscope.duckdb", str(tmp_path / "landing"))


@pytest.mark.parametrize("platform", ["x", "bluesky", "mastodon"])
@pytest.mark.parametrize(
    ("simulation", "verdict", "glue"),
    [
        ({"structure": "siloed", "glue_department": None}, "siloed", None),
        ({"structure": "glued", "glue_department": "Sales"}, "glued", "Sales"),
        ({"structure": "glued", "glue_department": "HR"}, "glued", "HR"),
        ({"structure": "networked", "glue_department": None}, "networked", None),
    ],
)
def test_each_planted_structure_gets_its_verdict(tmp_path, platform, simulation, verdict, glue):
    settings = settings_for(tmp_path, platform, **simulation)
    row = run_all(settings, "test-run", NIGHT, (platform,))
    assert (row["verdict"], row["glue_department"]) == (verdict, glue)
    assert row["engaged_conversations"] >= 30
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        platforms = con.execute(
            "select distinct platform from intermediate.int_messages_unioned"
        ).fetchall()
    assert platforms == [(platform,)]


def test_the_command_line_runs_every_step_and_reports(tmp_path, capsys):
    settings = settings_for(tmp_path, structure="siloed", glue_department=None)
    common = ["--config", str(settings.config_path), "--db", str(settings.db_path)]
    assert siloscope(["run", *common, "--date", "2026-11-01"]) == 0
    assert "verdict: siloed" in capsys.readouterr().out
    assert siloscope(["build", *common, "--window", "all"]) == 0
    assert siloscope(["report", *common]) == 0
    report = capsys.readouterr().out
    assert "Verdict: SILOED" in report
    assert all(d in report for d in ("Customer Care", "Marketing", "Sales", "HR", "Innovation"))
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        windows = con.execute(
            "select count(*), count(*) filter (window_start is null and window_end is null) "
            "from marts.org_verdict"
        ).fetchone()
    assert windows == (2, 1)  # the nightly window and `all`


def test_a_wrong_config_stops_the_command_before_anything_runs(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("organization: Acme\ndepartments:\n  - name: Care\n    acounts: {}\n")
    db = tmp_path / "siloscope.duckdb"
    assert siloscope(["run", "--config", str(config), "--db", str(db)]) == 2
    error = capsys.readouterr().err
    assert f"{config}: departments.0.acounts: unknown key" in error
    assert not db.exists()
