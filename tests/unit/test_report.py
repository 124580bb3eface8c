"""`siloscope report` shows one window: the one built last, verdict and departments alike."""

from __future__ import annotations

import pytest

from siloscope.cli import main as siloscope
from tests.unit.test_twcs_import import CONFIG, write_sample


@pytest.fixture
def imported(tmp_path, capsys):
    config = tmp_path / "acme.yaml"
    config.write_text(CONFIG + "rolling_window_days: 1\n")
    common = ["--config", str(config), "--db", str(tmp_path / "siloscope.duckdb")]
    assert siloscope(["import", "twcs", str(write_sample(tmp_path / "twcs.csv")), *common]) == 0
    capsys.readouterr()
    return common


def report(common, capsys) -> str:
    assert siloscope(["report", *common]) == 0
    return capsys.readouterr().out


# The sample's conversations start on Oct 31 (1), Nov 1 (10) and Nov 2 (20), 2017.
# All of them: 2 engaged, 1 cross-department: networked. The day ending Nov 2 holds only
# conversation 10, which no department answered: insufficient data, Care engaged in none.
ROLLING = ["--window", "rolling", "--date", "2017-11-02"]


def test_the_report_before_any_build_says_so(imported, capsys):
    assert "no verdict yet" in report(imported, capsys)


@pytest.mark.parametrize(
    ("builds", "verdict", "care_conversations"),
    [
        ((ROLLING, ["--window", "all"]), "NETWORKED", 2),
        ((["--window", "all"], ROLLING), "INSUFFICIENT_DATA", 0),
    ],
)
def test_the_report_shows_the_window_built_last(
    imported, capsys, builds, verdict, care_conversations
):
    for window in builds:
        assert siloscope(["build", *imported, *window]) == 0
    shown = report(imported, capsys)
    assert f"Verdict: {verdict}" in shown
    care = next(line for line in shown.splitlines() if line.startswith("Care "))
    assert care.split()[1] == str(care_conversations)
