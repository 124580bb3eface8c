"""Where things are: the config file, the DuckDB file, the landing zone, what is published.

Read at run time from the environment (never at import), so one variable switches a
deployment between local files and object storage without a code edit. Every path is made
absolute when the settings are resolved, against the working directory of that moment:
libraries that want absolute paths (Great Expectations) get them, and nothing later
depends on where the process happens to stand.
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


class SettingError(ValueError):
    """A setting (argument or environment variable) that cannot be used; names it. A
    person has to change it, so no retry can help (`retryable`)."""

    retryable = False


@dataclass(frozen=True)
class Settings:
    config_path: Path
    db_path: Path
    landing_root: str  # an absolute local path or an fsspec URL (s3://..., memory://...)
    landing_origin: str = "SILOSCOPE_LANDING"  # what chose the landing zone, for messages

    @classmethod
    def resolve(
        cls,
        config_path: str | os.PathLike | None = None,
        db_path: str | os.PathLike | None = None,
        landing_root: str | None = None,
    ) -> Settings:
        """Explicit values win; then SILOSCOPE_CONFIG / _DB / _LANDING; then defaults.

        The landing zone defaults to a `landing/` folder beside the DuckDB file. Raises
        SettingError for a landing URL whose storage cannot be reached from here and for
        a build memory limit that is not a size.
        """
        config = Path(config_path or os.environ.get("SILOSCOPE_CONFIG") or DEFAULT_CONFIG)
        db = Path(db_path or os.environ.get("SILOSCOPE_DB") or DEFAULT_DB).absolute()
        if landing_root:
            landing, origin = landing_root, "--landing"
        elif os.environ.get("SILOSCOPE_LANDING"):
            landing, origin = os.environ["SILOSCOPE_LANDING"], "SILOSCOPE_LANDING"
        else:
            landing, origin = str(db.parent / "landing"), "the landing zone beside the DB"
        settings = cls(config.absolute(), db, _absolute_if_local(landing, origin), origin)
        settings.build_memory_limit  # noqa: B018 - a wrong size stops every command at once
        return settings

    def landing_zone(self) -> LandingZone:
        """The landing zone, with object-storage credentials from SILOSCOPE_LANDING_CONN_ID's
        Airflow Connection when it is set (see siloscope/landing_storage.py)."""
        from ingest.landing import LandingZone
        from siloscope.landing_storage import landing_storage_options

        return LandingZone(self.landing_root, landing_storage_options(self.landing_root))

    @property
    def published_root(self) -> Path:
        """What dashboards read: $SILOSCOPE_PUBLISHED, else `published/` beside the DB."""
        published = os.environ.get("SILOSCOPE_PUBLISHED")
        return Path(published).absolute() if published else self.db_path.parent / "published"

    @property
    def build_memory_limit(self) -> str:
        """$SILOSCOPE_BUILD_MEMORY_LIMIT (like '3GB'), else 3GB."""
        from transforms.build import BUILD_MEMORY_LIMIT, check_memory_limit

        limit = os.environ.get("SILOSCOPE_BUILD_MEMORY_LIMIT") or BUILD_MEMORY_LIMIT
        try:
            return check_memory_limit(limit)
        except ValueError as exc:
            raise SettingError(f"SILOSCOPE_BUILD_MEMORY_LIMIT: {exc}") from None

    @property
    def report_path(self) -> Path:
        """The nightly report page: $SILOSCOPE_REPORT, else `report.html` beside the DB."""
        report = os.environ.get("SILOSCOPE_REPORT")
        return Path(report).absolute() if report else self.db_path.parent / "report.html"


def _absolute_if_local(landing: str, origin: str) -> str:
    """A local path made absolute; a URL checked for a storage backend installed here."""
    import fsspec
    from fsspec.core import split_protocol
    from fsspec.registry import known_implementations

    protocol, _ = split_protocol(landing)
    if protocol in (None, "file", "local"):
        return str(Path(landing.removeprefix(f"{protocol}://") if protocol else landing).absolute())
    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError:
        package = known_implementations[protocol]["class"].split(".")[0]
        raise SettingError(
            f"{origin} {landing}: storage for {protocol}:// is not installed here: "
            f"install the {package} package (pip install {package})"
        ) from None
    except ValueError:
        raise SettingError(
            f"{origin} {landing}: unknown storage protocol {protocol!r} "
            "(use a local path or a URL fsspec knows, such as s3://bucket/landing)"
        ) from None
    return landing
