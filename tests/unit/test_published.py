"""siloscope.published: the published marts as polars DataFrames, read from a real
published release (built, then published by siloscope.publish), never the working DB."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb
import polars as pl
import pytest
import yaml

from siloscope.publish import publish
from siloscope.published import MART_NAMES, NothingPublished, open_published
from tests.marts_fixture import build_database, messages, nightly_windows
from transforms.build import MODELS_DIR


@pytest.fixture
def published(tmp_path):
    """A working database built for three nights and published; then the working
    database is moved away, so nothing can read it."""
    work = build_database(tmp_path / "work.duckdb", messages(days=3), windows=nightly_windows(3))
    root = tmp_path / "published"
    publish(work, root, "Acme")
    shutil.move(work, tmp_path / "moved-away.duckdb")
    return root


def published_rows(root, mart: str) -> list[tuple]:
    with duckdb.connect(str(root / "siloscope.duckdb"), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return sorted(con.execute(f"from marts.{mart}").fetchall(), key=repr)


@pytest.mark.parametrize("mart", MART_NAMES)
def test_each_mart_is_a_dataframe_of_the_published_rows(published, mart):
    frame = getattr(open_published(published), mart)()
    assert isinstance(frame, pl.DataFrame)
    assert frame.height > 0
    assert sorted(frame.rows(), key=repr) == published_rows(published, mart)


@pytest.mark.parametrize("mart", MART_NAMES)
def test_each_frame_has_the_columns_the_marts_docs_list(published, mart):
    [doc] = yaml.safe_load((MODELS_DIR / "marts" / f"{mart}.yml").read_text())["models"]
    assert open_published(published).read(mart).columns == [c["name"] for c in doc["columns"]]


def test_every_mart_the_build_makes_can_be_read():
    built = sorted(path.stem for path in (MODELS_DIR / "marts").glob("*.sql"))
    assert sorted(MART_NAMES) == built


def test_the_release_its_night_and_organisation_come_with_the_frames(published):
    marts = open_published(published)
    verdicts = marts.org_verdict().sort("window_end")
    assert marts.organization == "Acme"
    assert marts.release == (published / "current").resolve().name
    assert isinstance(marts.published_at, datetime) and marts.published_at.tzinfo is not None
    # the marts hold the window built last
    assert (marts.window_start, marts.window_end) == verdicts.row(-1)[:2]


def test_frames_come_from_the_release_that_was_current_when_opened(published, tmp_path):
    opened = open_published(published)
    before = opened.conversations()
    other = build_database(tmp_path / "other.duckdb", messages(days=1))
    publish(other, published, "Acme")

    assert opened.conversations().equals(before)
    newer = open_published(published)
    assert newer.release != opened.release
    assert newer.conversations().height != before.height


def test_a_folder_with_nothing_published_is_one_clear_error(tmp_path):
    with pytest.raises(NothingPublished, match=r"no published release .*siloscope publish"):
        open_published(tmp_path)


def test_a_name_that_is_not_a_mart_is_refused_with_the_marts_listed(published):
    with pytest.raises(ValueError, match="'orders' is not a mart; the marts are conversations"):
        open_published(published).read("orders")  # type: ignore[arg-type]


def test_the_readme_example_runs_on_a_published_release(tmp_path, monkeypatch, capsys):
    readme = (MODELS_DIR.parents[1] / "README.md").read_text()
    section = readme[readme.index("### From Python") :]
    example = section[section.index("```python\n") + 10 : section.index("\n```\n")]
    work = build_database(tmp_path / "work.duckdb", messages(days=2), windows=nightly_windows(2))
    publish(work, tmp_path / "data" / "published", "Acme")
    monkeypatch.chdir(tmp_path)

    exec(compile(example, "README.md", "exec"), {})

    assert "glue_score" in capsys.readouterr().out
