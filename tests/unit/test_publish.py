"""Publish: a complete read-only copy of the marts, Parquet per mart, switched in whole."""

from __future__ import annotations

import os
import stat

import duckdb
import pytest

from siloscope import publish as publishing
from siloscope.cli import main as siloscope
from siloscope.publish import (
    PublishRefused,
    current_release,
    publish,
    published_database,
    published_parquet,
)
from tests.marts_fixture import build_database, messages, nightly_windows


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """Built once: publishing only ever reads it."""
    folder = tmp_path_factory.mktemp("work")
    return build_database(folder / "work.duckdb", messages(days=3), windows=nightly_windows(3))


def tables(con, database: str, schemas=None) -> set[str]:
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() where database_name = ?",
        [database],
    ).fetchall()
    return {t for (t,) in rows if schemas is None or t.split(".")[0] in schemas}


def differences(con, left: str, right: str) -> int:
    """Rows in one relation and not the other, either way (duplicates counted)."""
    return con.execute(
        f"select (select count(*) from (from {left} except all from {right})) "
        f"+ (select count(*) from (from {right} except all from {left}))"
    ).fetchone()[0]


def test_the_copy_holds_every_mart_and_config_table_row_for_row_and_nothing_else(source, tmp_path):
    root = tmp_path / "published"
    publication = publish(source, root, "Acme")
    con = duckdb.connect()
    con.execute(f"attach '{source}' as work (read_only)")
    con.execute(f"attach '{published_database(root)}' as pub (read_only)")
    expected = tables(con, "work", {"marts", "config"})
    assert len([t for t in expected if t.startswith("marts.")]) == 6
    assert tables(con, "pub") == expected | {"meta.publication"}
    for table in expected:
        assert differences(con, f"work.{table}", f"pub.{table}") == 0, table
        rows = con.execute(f"select count(*) from work.{table}").fetchone()[0]
        assert publication.tables[table] == rows
    # the messages, with customers' handles and words, stay in the working database
    assert "intermediate.int_messages_unioned" in tables(con, "work")


def test_every_mart_is_exported_as_parquet_in_a_folder_of_its_own(source, tmp_path):
    root = tmp_path / "published"
    publish(source, root, "Acme")
    con = duckdb.connect()
    con.execute(f"attach '{source}' as work (read_only)")
    marts = sorted(t.split(".")[1] for t in tables(con, "work", {"marts"}))
    assert sorted(p.name for p in (root / "parquet").iterdir()) == marts
    for mart in marts:
        files = list(published_parquet(root, mart).glob("*.parquet"))
        assert files, mart
        parquet = f"read_parquet('{published_parquet(root, mart)}/*.parquet')"
        assert differences(con, f"work.marts.{mart}", parquet) == 0, mart


def test_the_publication_says_who_and_which_window(source, tmp_path):
    root = tmp_path / "published"
    publication = publish(source, root, "Acme & Co")
    with duckdb.connect(str(published_database(root)), read_only=True) as con:
        row = con.execute(
            "select release, organization, build_window_start, build_window_end "
            "from meta.publication"
        ).fetchone()
    with duckdb.connect(str(source), read_only=True) as con:
        window = con.execute("select * from config.build_window").fetchone()
    assert row == (publication.release, "Acme & Co", *window)


def test_a_new_publish_switches_the_stable_paths_and_keeps_the_old_release(source, tmp_path):
    root = tmp_path / "published"
    first = publish(source, root, "Acme")
    bigger = build_database(tmp_path / "bigger.duckdb", messages(days=5))
    second = publish(bigger, root, "Acme")
    assert current_release(root) == second.release
    with duckdb.connect(str(published_database(root)), read_only=True) as con:
        conversations = con.execute("select count(*) from marts.conversations").fetchone()[0]
    assert conversations == second.tables["marts.conversations"]
    assert conversations != first.tables["marts.conversations"]
    # readers still holding the first release find it whole
    old = root / "releases" / first.release
    with duckdb.connect(str(old / "siloscope.duckdb"), read_only=True) as con:
        assert (
            con.execute("select count(*) from marts.conversations").fetchone()[0]
            == first.tables["marts.conversations"]
        )


def test_a_connection_opened_after_a_publish_sees_it_while_an_older_one_stays_open(
    source, tmp_path
):
    root = tmp_path / "published"
    first = publish(source, root, "Acme")
    held = duckdb.connect(str(published_database(root)), read_only=True)
    try:
        second = publish(source, root, "Acme")
        with duckdb.connect(str(published_database(root)), read_only=True) as fresh:
            assert fresh.execute("select release from meta.publication").fetchone()[0] == (
                second.release
            )
        assert held.execute("select release from meta.publication").fetchone()[0] == (first.release)
    finally:
        held.close()


def test_old_releases_are_pruned_but_the_current_one_never(source, tmp_path):
    root = tmp_path / "published"
    releases = [publish(source, root, "Acme", keep=2).release for _ in range(5)]
    kept = sorted(p.name for p in (root / "releases").iterdir())
    assert kept == releases[-2:]
    assert current_release(root) == releases[-1]


def test_published_files_are_read_only(source, tmp_path):
    root = tmp_path / "published"
    publish(source, root, "Acme")
    files = [p for p in (root / "current").resolve().rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path


def test_the_stable_paths_are_relative_links_so_the_folder_can_move(source, tmp_path):
    root = tmp_path / "published"
    publish(source, root, "Acme")
    moved = tmp_path / "mounted-elsewhere"
    root.rename(moved)
    with duckdb.connect(str(published_database(moved)), read_only=True) as con:
        assert con.execute("select count(*) from marts.org_verdict").fetchone()[0] == 3
    for link in ("current", "siloscope.duckdb", "parquet"):
        assert not os.readlink(moved / link).startswith("/"), link


def test_a_database_without_a_finished_build_is_refused(tmp_path):
    unbuilt = tmp_path / "unbuilt.duckdb"
    with duckdb.connect(str(unbuilt)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.conversations (platform varchar)")
    root = tmp_path / "published"
    with pytest.raises(PublishRefused, match="no finished build") as refusal:
        publish(unbuilt, root, "Acme")
    assert "marts.org_verdict" in str(refusal.value)
    assert current_release(root) is None
    assert list((root / "releases").iterdir()) == []


def test_a_failed_publish_leaves_the_current_release_and_no_debris(source, tmp_path, monkeypatch):
    root = tmp_path / "published"
    first = publish(source, root, "Acme")

    def disk_full(folder):
        raise OSError("No space left on device")

    monkeypatch.setattr(publishing, "_make_read_only", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish(source, root, "Acme")
    assert current_release(root) == first.release
    assert [p.name for p in (root / "releases").iterdir()] == [first.release]


def test_the_command_line_publishes_and_refuses_clearly(source, tmp_path, capsys):
    config = tmp_path / "org.yaml"
    config.write_text("organization: Acme\ndepartments:\n  - name: Care\n")
    target = tmp_path / "dashboards"
    assert (
        siloscope(["publish", "--config", str(config), "--db", str(source), "--to", str(target)])
        == 0
    )
    assert "published release" in capsys.readouterr().out
    assert published_database(target).exists()

    missing = tmp_path / "missing.duckdb"
    assert siloscope(["publish", "--config", str(config), "--db", str(missing)]) == 1
    assert f"no database at {missing}" in capsys.readouterr().err


def test_the_published_root_defaults_beside_the_database_or_follows_the_environment(
    tmp_path, monkeypatch
):
    from siloscope.settings import Settings

    settings = Settings.resolve(tmp_path / "org.yaml", tmp_path / "db" / "work.duckdb")
    assert settings.published_root == tmp_path / "db" / "published"
    assert settings.report_path == tmp_path / "db" / "report.html"
    monkeypatch.setenv("SILOSCOPE_PUBLISHED", str(tmp_path / "share"))
    assert settings.published_root == tmp_path / "share"
