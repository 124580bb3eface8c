"""Where things are: the config file, the DuckDB file, the landing zone, what is published.

Read at run time from the environment (never at import), so one variable switches a
deployment between local files and object storage without a code edit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.landing import LandingZone

DEFAULT_CONFIG = "config/acme.yaml"
DEFAULT_DB = "data/siloscope.duckdb"
# What a build may hold in memory before DuckDB spills to disk (10M messages build in 3 GB).
DEFAULT_BUILD_MEMORY_LIMIT = "3GB"


@dataclass(frozen=True)
class Settings:
    config_path: Path
    db_path: Path
    landing_root: str  # a local path or an fsspec URL (s3://..., gs://..., memory://...)

    @classmethod
    def resolve(
        cls,
        config_path: str | os.PathLike | None = None,
        db_path: str | os.PathLike | None = None,
        landing_root: str | None = None,
    ) -> Settings:
        """Explicit values win; then SILOSCOPE_CONFIG / _DB / _LANDING; then defaults.

        The landing zone defaults to a `landing/` folder beside the DuckDB file.
        """
        config = Path(config_path or os.environ.get("SILOSCOPE_CONFIG") or DEFAULT_CONFIG)
        db = Path(db_path or os.environ.get("SILOSCOPE_DB") or DEFAULT_DB)
        landing = landing_root or os.environ.get("SILOSCOPE_LANDING") or str(db.parent / "landing")
        return cls(config, db, landing)

    def landing_zone(self) -> LandingZone:
        """The landing zone, with object-storage credentials from SILOSCOPE_LANDING_CONN_ID's
        Airflow Connection when it is set (see siloscope/landing_storage.py)."""
        from ingest.landing import LandingZone
        from siloscope.landing_storage import landing_storage_options

        return LandingZone(self.landing_root, landing_storage_options(self.landing_root))

    @property
    def published_root(self) -> Path:
        """What dashboards read: $SILOSCOPE_PUBLISHED, else `published/` beside the DB."""
        return Path(os.environ.get("SILOSCOPE_PUBLISHED") or self.db_path.parent / "published")

    @property
    def build_memory_limit(self) -> str:
        """$SILOSCOPE_BUILD_MEMORY_LIMIT (like '3GB'), else 3GB."""
        return os.environ.get("SILOSCOPE_BUILD_MEMORY_LIMIT") or DEFAULT_BUILD_MEMORY_LIMIT

    @property
    def report_path(self) -> Path:
        """The nightly report page: $SILOSCOPE_REPORT, else `report.html` beside the DB."""
        return Path(os.environ.get("SILOSCOPE_REPORT") or self.db_path.parent / "report.html")
