"""Publish: the copy dashboards and BI tools read, never the file the nightly run writes.

Layout under the published root (default: `published/` beside the working database):

    releases/<stamp>/siloscope.duckdb        a complete, read-only DuckDB copy
    releases/<stamp>/parquet/<mart>/*.parquet every mart, one folder per table
    current -> releases/<stamp>               switched atomically, by rename, per publish
    siloscope.duckdb -> current/siloscope.duckdb   the stable paths tools are pointed at
    parquet -> current/parquet

Why a versioned folder and a switched link rather than os.replace of the file alone: the
DuckDB copy and its Parquet folders then change in one step, so a tool never reads
tonight's Parquet beside last night's DuckDB file; and a directory cannot be renamed over
a non-empty one, so Parquet folders could not be swapped atomically any other way.

A reader that has the old copy open keeps reading its inode (Linux), even after old
releases are pruned; a reader that opens the stable path gets the old or the new release,
whole. The publisher never opens a published file that a reader can see, so a dashboard
holding one open neither blocks nor is broken by the nightly run.

What is published: every `marts.*` table (the metrics contract), the `config.*` tables
(which departments and thresholds the marts were built with: the network's nodes and the
threshold lines of the charts need them) and `meta.publication`. Not published: raw and
staging messages. They hold customers' handles and words, which the report and the
dashboards do not need; data engineers who do, query the working database.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

PUBLISHED_SCHEMAS = ("marts", "config")
DATABASE_NAME = "siloscope.duckdb"
PARQUET_DIR = "parquet"
RELEASES_DIR = "releases"
CURRENT_LINK = "current"
# Older releases are kept a while: a reader that listed a Parquet folder a moment before
# the switch must still find the files it is about to open.
RELEASES_KEPT = 3
_INCOMING_PREFIX = ".incoming-"
# A publish interrupted by a kill leaves its incoming folder; an hour is far beyond any
# publish still running.
_STALE_INCOMING_SECONDS = 3600


class PublishRefused(RuntimeError):
    """The working database holds no finished build, or is being written right now."""


@dataclass(frozen=True)
class Publication:
    release: str
    root: Path
    tables: dict[str, int]  # "schema.table" -> rows
    # set when the build was not published because the release in place covers a newer
    # window (a backfill of an older night): why, in words
    kept_newer: str | None = None

    @property
    def database(self) -> Path:
        return self.root / DATABASE_NAME

    def describe(self) -> str:
        if self.kept_newer:
            return f"kept release {self.release}: {self.kept_newer}"
        marts = sum(1 for t in self.tables if t.startswith("marts."))
        return (
            f"published release {self.release}: {len(self.tables)} tables "
            f"({marts} marts, also as Parquet) -> {self.database}"
        )


def published_database(root: Path) -> Path:
    """The stable path of the published DuckDB copy (what dashboards open)."""
    return Path(root) / DATABASE_NAME


def published_parquet(root: Path, mart: str) -> Path:
    """The stable folder of one mart's Parquet files."""
    return Path(root) / PARQUET_DIR / mart


def expected_marts() -> list[str]:
    """Every mart a finished build leaves: one per model file in transforms/models/marts."""
    from transforms.build import discover_models

    return sorted(m.name for m in discover_models() if m.schema == "marts")


def publish(
    source_db: Path,
    root: Path,
    organization: str,
    keep: int = RELEASES_KEPT,
) -> Publication:
    """Copy the marts of `source_db` into a new release under `root` and switch to it."""
    import duckdb

    source_db, root = Path(source_db), Path(root)
    if not source_db.exists():
        raise PublishRefused(f"no database at {source_db}: run the pipeline first")
    kept = _newer_release(source_db, root)
    if kept is not None:
        log.info("%s", kept.describe())
        return kept
    releases = root / RELEASES_DIR
    releases.mkdir(parents=True, exist_ok=True)
    published_at = datetime.now(UTC)
    release = f"{published_at:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
    # Built under a hidden name in the same file system, then renamed whole into place.
    incoming = releases / f"{_INCOMING_PREFIX}{release}"
    incoming.mkdir()
    try:
        con = duckdb.connect()
        try:
            _attach_source(con, source_db)
            tables = _copy_release(con, incoming, release, organization, published_at)
        finally:
            con.close()
        _make_read_only(incoming)
        incoming.rename(releases / release)
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    _switch_current(root, release)
    _prune(root, keep)
    publication = Publication(release, root, tables)
    log.info("%s", publication.describe())
    return publication


def _window_end(con: duckdb.DuckDBPyConnection, table: str, column: str) -> datetime | None:
    try:
        found = con.execute(f"select max({column}) from {table}").fetchone()
    except Exception:  # duckdb.CatalogException: no build, or a release of an older layout
        return None
    return found[0] if found else None


def _newer_release(source_db: Path, root: Path) -> Publication | None:
    """The release in place, when it covers a newer window than the build in `source_db`.

    Re-running an older night (a backfill) builds that night's snapshot rows in the working
    database; dashboards must not go back to it. The next newest night publishes them.
    """
    import duckdb

    release = current_release(root)
    if release is None:
        return None
    con = duckdb.connect()
    try:
        con.execute("attach ? as published (read_only)", [str(published_database(root))])
        con.execute("attach ? as source (read_only)", [str(source_db)])
        published_end = _window_end(con, "published.meta.publication", "build_window_end")
        built_end = _window_end(con, "source.config.build_window", "window_end")
    except duckdb.IOException:
        return None  # a source being written is refused, in its own words, by publish
    finally:
        con.close()
    if published_end is None or built_end is None or built_end >= published_end:
        return None
    return Publication(
        release,
        root,
        {},
        kept_newer=(
            f"it covers the window ending {published_end:%Y-%m-%d}, newer than this build's "
            f"({built_end:%Y-%m-%d}): dashboards never go back in time"
        ),
    )


def _attach_source(con: duckdb.DuckDBPyConnection, source_db: Path) -> None:
    import duckdb

    try:
        con.execute("attach ? as source (read_only)", [str(source_db)])
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise PublishRefused(
                f"{source_db} is being written by another process (a load or build still "
                "running?); publish once it has finished"
            ) from exc
        raise
    present = {
        (schema, table)
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'source'"
        ).fetchall()
    }
    missing = [f"marts.{m}" for m in expected_marts() if ("marts", m) not in present]
    if ("config", "build_window") not in present:
        missing.append("config.build_window")
    if missing:
        raise PublishRefused(
            f"{source_db} holds no finished build (missing {', '.join(missing)}); "
            "run `siloscope build` first"
        )


def _copy_release(
    con: duckdb.DuckDBPyConnection,
    incoming: Path,
    release: str,
    organization: str,
    published_at: datetime,
) -> dict[str, int]:
    database = incoming / DATABASE_NAME
    con.execute("attach ? as release", [str(database)])
    # One read transaction over the source: every table comes from the same committed state.
    con.execute("begin transaction")
    tables: dict[str, int] = {}
    for schema in PUBLISHED_SCHEMAS:
        con.execute(f"create schema release.{schema}")
        names = con.execute(
            "select table_name from duckdb_tables() "
            "where database_name = 'source' and schema_name = ? order by table_name",
            [schema],
        ).fetchall()
        for (name,) in names:
            con.execute(f'create table release.{schema}."{name}" as from source.{schema}."{name}"')
            [(rows,)] = con.execute(f'select count(*) from release.{schema}."{name}"').fetchall()
            tables[f"{schema}.{name}"] = rows
    con.execute("create schema release.meta")
    con.execute(
        "create table release.meta.publication as select ?::varchar as release, "
        "?::varchar as organization, ?::timestamptz as published_at, "
        "window_start as build_window_start, window_end as build_window_end "
        "from source.config.build_window",
        [release, organization, published_at],
    )
    tables["meta.publication"] = 1
    con.execute("commit")
    for table in tables:
        schema, name = table.split(".")
        if schema != "marts":
            continue
        folder = incoming / PARQUET_DIR / name
        folder.mkdir(parents=True)
        target = _sql_string(str(folder / f"{name}.parquet"))
        con.execute(f'copy release.marts."{name}" to {target} (format parquet)')
    con.execute("checkpoint release")
    con.execute("detach release")
    con.execute("detach source")
    return tables


def _sql_string(text: str) -> str:
    # COPY takes its path as a literal, not a parameter
    return "'" + text.replace("'", "''") + "'"


def _make_read_only(folder: Path) -> None:
    """Readers must open the copy read-only; a writable open would leave a WAL beside it."""
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(0o444)


def _replace_link(link: Path, target: str) -> None:
    """Point `link` at `target` in one rename: a reader resolves the old or the new one."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.exists() and not link.is_symlink():
        raise PublishRefused(f"{link} exists and is not a link made by publish; move it away")
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}")
    temporary.symlink_to(target)
    os.replace(temporary, link)


def _switch_current(root: Path, release: str) -> None:
    # Relative targets: the published folder keeps working when mounted elsewhere (Docker).
    _replace_link(root / CURRENT_LINK, f"{RELEASES_DIR}/{release}")
    _replace_link(root / DATABASE_NAME, f"{CURRENT_LINK}/{DATABASE_NAME}")
    _replace_link(root / PARQUET_DIR, f"{CURRENT_LINK}/{PARQUET_DIR}")


def current_release(root: Path) -> str | None:
    link = Path(root) / CURRENT_LINK
    return Path(os.readlink(link)).name if link.is_symlink() else None


def _prune(root: Path, keep: int) -> None:
    releases = root / RELEASES_DIR
    current = current_release(root)
    finished = sorted(
        p.name for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    # Unlinking a file a reader has open is safe on Linux: the reader keeps the inode.
    for name in finished[: max(len(finished) - keep, 0)]:
        if name != current:
            _remove_tree(releases / name)
    for incoming in releases.glob(f"{_INCOMING_PREFIX}*"):
        if time.time() - incoming.stat().st_mtime > _STALE_INCOMING_SECONDS:
            _remove_tree(incoming)


def _remove_tree(folder: Path) -> None:
    # The files are read-only; their folders are not, so removal needs no chmod on Linux.
    shutil.rmtree(folder, ignore_errors=True)
