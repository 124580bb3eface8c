"""The published marts as polars DataFrames, for data engineers and notebooks.

    from siloscope.published import open_published

    marts = open_published("data/published")
    marts.release, marts.window_start, marts.window_end
    scorecard = marts.department_scorecard()          # a polars.DataFrame
    history = marts.read("department_scorecard_history")

It reads the published copy (siloscope.publish), never the working database the nightly
run writes: a notebook left open neither blocks the run nor sees a half-built table.
`open_published` pins the release that is current when it is called, so every frame of
one `PublishedMarts` comes from the same night even if a publish switches releases
meanwhile; open again to see the newer one. Columns and types are those of the marts'
docs (transforms/models/marts/<mart>.yml); the meaning of each is in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

import polars as pl

from siloscope.publish import CURRENT_LINK, DATABASE_NAME, PARQUET_DIR

MartName = Literal[
    "conversations",
    "department_scorecard",
    "department_pairs",
    "brokerage",
    "org_verdict",
    "department_scorecard_history",
]
MART_NAMES: tuple[MartName, ...] = get_args(MartName)


class NothingPublished(FileNotFoundError):
    """The folder holds no published release."""


@dataclass(frozen=True)
class PublishedMarts:
    """One published release: its metadata, and each mart as a DataFrame."""

    folder: Path  # the release's own folder, not the `current` link
    release: str
    organization: str | None
    published_at: datetime
    window_start: datetime | None  # None: the build took every message
    window_end: datetime | None

    def read(self, mart: MartName) -> pl.DataFrame:
        """The mart's rows, as published (its Parquet files)."""
        if mart not in MART_NAMES:
            raise ValueError(f"{mart!r} is not a mart; the marts are {', '.join(MART_NAMES)}")
        return pl.read_parquet(self.folder / PARQUET_DIR / mart / "*.parquet")

    def conversations(self) -> pl.DataFrame:
        """One row per customer conversation in the build window."""
        return self.read("conversations")

    def department_scorecard(self) -> pl.DataFrame:
        """One row per configured department, for the build window."""
        return self.read("department_scorecard")

    def department_pairs(self) -> pl.DataFrame:
        """One row per unordered pair of configured departments, for the build window."""
        return self.read("department_pairs")

    def brokerage(self) -> pl.DataFrame:
        """One row per configured org account: its brokerage roles."""
        return self.read("brokerage")

    def org_verdict(self) -> pl.DataFrame:
        """One row per window built: the verdict, night by night."""
        return self.read("org_verdict")

    def department_scorecard_history(self) -> pl.DataFrame:
        """The department scorecard of every window built."""
        return self.read("department_scorecard_history")


def open_published(root: str | Path) -> PublishedMarts:
    """The release current under `root` (the folder `siloscope publish` writes to)."""
    import duckdb

    root = Path(root)
    current = root / CURRENT_LINK
    if not current.is_symlink():
        raise NothingPublished(
            f"{root}: no published release (no '{CURRENT_LINK}' link); "
            "run `make run` or `siloscope publish`, or point at the published folder"
        )
    folder = current.resolve()
    with duckdb.connect(str(folder / DATABASE_NAME), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        row = con.execute(
            "select release, organization, published_at, build_window_start, build_window_end "
            "from meta.publication"
        ).fetchone()
    if row is None:
        raise NothingPublished(f"{folder}: the release has no meta.publication row")
    release, organization, published_at, window_start, window_end = row
    return PublishedMarts(folder, release, organization, published_at, window_start, window_end)
