"""Fault 5: a planned account of the night is missing, yet the marts build and validate."""

from pathlib import Path

import pytest

from siloscope.cli import main as siloscope
from siloscope.config import load_config
from siloscope.pipeline import (
    NightIncomplete,
    build,
    extract,
    load,
    nightly_window,
    plan_extract,
    publish,
    reconcile,
    run_all,
    validate,
)
from siloscope.publish import current_release
from tests.faults.nights import night, organisation, run_id


def run_night_without(settings, until, missing_account: str) -> None:
    """Every step but publish, with one planned account never extracted (a lost task, a
    worker that died before it wrote anything, a config edited after the plan)."""
    config = load_config(settings.config_path)
    for target in plan_extract(settings, config, until):
        if target.account != missing_account:
            extract(settings, config, target, run_id(until), until)
    load(settings)
    reconcile(settings, until)
    build(settings, config, nightly_window(config, until))
    validate(settings, config, run_id(until), until)


def test_a_night_missing_a_planned_account_is_not_published(tmp_path):
    settings = organisation(tmp_path)
    run_all(settings, run_id(night(0)), night(0))
    good = current_release(settings.published_root)
    assert good is not None

    run_night_without(settings, night(1), "Acme")
    config = load_config(settings.config_path)
    with pytest.raises(NightIncomplete) as refused:
        publish(settings, config, night(1))
    assert refused.value.problems == ["x/Acme: no extract run of this night was loaded"]
    assert current_release(settings.published_root) == good


def test_the_command_line_refuses_to_publish_an_incomplete_night_and_says_why(tmp_path, capsys):
    settings = organisation(tmp_path)
    run_night_without(settings, night(0), "AcmeHelp")
    paths = ["--config", str(settings.config_path), "--db", str(settings.db_path)]
    assert siloscope(["publish", *paths]) == 1
    error = capsys.readouterr().err
    assert "not published" in error and "x/AcmeHelp: no extract run" in error
    assert "Traceback" not in error
    assert not Path(settings.published_root, "siloscope.duckdb").exists()


def test_a_night_with_a_refused_page_is_not_published(tmp_path):
    settings = organisation(tmp_path)
    config = load_config(settings.config_path)
    until = night(0)
    for target in plan_extract(settings, config, until):
        extract(settings, config, target, run_id(until), until)
    [page] = sorted(Path(settings.landing_root).glob("x/Acme/dt=*/run=*/page-00001.json"))
    page.write_bytes(page.read_bytes()[:100])
    load(settings)
    with pytest.raises(NightIncomplete, match=r"x/Acme: 1 page\(s\) refused"):
        publish(settings, config, until)


def test_a_complete_night_is_published(tmp_path):
    settings = organisation(tmp_path)
    run_all(settings, run_id(night(0)), night(0))
    config = load_config(settings.config_path)
    assert publish(settings, config, night(0)).tables["marts.org_verdict"] >= 1
