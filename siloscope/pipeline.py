"""The pipeline's steps, shared by the Airflow DAG and the command line.

Each step is a plain function of settings and inputs, so the DAG stays a thin wiring of
tasks and a data engineer can run any step from a shell without Airflow.

    plan     which (platform, account) to extract, with each one's watermarks
    extract  one (platform, account): response pages into the landing zone
    load     the one DuckDB writer: new landing files into raw.*, rejects into ops.rejects
    reconcile  each extract run: records fetched = loaded + rejected + duplicates skipped
    build    staging and marts for a window (transforms/)
    validate the Great Expectations suites on staging and marts (transforms/quality/)
    publish  a finished build's marts, copied where dashboards read them (siloscope.publish)
    report   the report page, drawn from the published copy (siloscope.report_page)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.landing import extract_to_landing
from ingest.pages import ExtractRequest, PageSource
from siloscope import database
from siloscope.config import PLATFORMS, OrgConfig, load_config
from siloscope.settings import Settings

if TYPE_CHECKING:
    import duckdb

    from ingest.load import LoadReport
    from ingest.reconcile import Reconciliation
    from siloscope.publish import Publication
    from transforms.build import BuildWindow
    from transforms.quality import ValidationReport

log = logging.getLogger(__name__)

# Builds a live API source for a platform (with the config's settings for it); the DAG and
# the CLI each pass their own, so credentials are read where the run happens (an Airflow
# Connection, or the environment).
SourceFactory = Callable[[str, OrgConfig], PageSource]


# Stored conversations whose newest post is older than this cannot bound a recent search
# (it covers 7 days), so the plan step leaves them out of the targets.
STORED_THREADS_WINDOW = timedelta(days=8)
STORED_USERS_WINDOW = timedelta(days=28)


@dataclass(frozen=True)
class ExtractTarget:
    """One extract task's whole input, as plain values: extract tasks never open DuckDB."""

    platform: str
    account: str
    source: str  # "simulated" or "api"
    since_ids: dict[str, str]
    # X: conversation id -> newest post stored for it before this night (thread_plan.py)
    stored_threads: dict[str, str] = field(default_factory=dict)
    # X: the authors of recent posts, whose user objects are stored (not to be read again)
    stored_users: list[str] = field(default_factory=list)
    read_strategy: str = "bounded"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def connect(settings: Settings, read_only: bool = False):
    """A DuckDB connection that is always closed: the file allows one writing process.

    A writer holds the run lock while it is open (siloscope.database), so a second run is
    refused with a line naming the first instead of meeting it inside DuckDB.
    """
    return database.connect(settings.db_path, read_only, settings.published_root)


def _watermarks(settings: Settings, until: datetime) -> dict[tuple[str, str], dict[str, str]]:
    """Per (platform, account): each endpoint's since_id from the latest night before `until`.

    Nights before, not the latest overall: running a night again then asks for exactly
    what its first run asked, and lands the same pages.
    """
    if not settings.db_path.exists():
        return {}
    with connect(settings, read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'ops' and table_name = 'watermarks'"
        ).fetchone()[0]
        if not exists:
            return {}
        rows = con.execute(
            "select platform, account, endpoint, arg_max(since_id, until) "
            "from ops.watermarks where until < ? group by all",
            [until],
        )
        marks: dict[tuple[str, str], dict[str, str]] = {}
        for platform, account, endpoint, since_id in rows.fetchall():
            marks.setdefault((platform, account), {})[endpoint] = since_id
        return marks


@dataclass(frozen=True)
class StoredX:
    """What X thread searches and author lookups may skip (thread_plan.py)."""

    threads: dict[str, str] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)


def _stored_x(settings: Settings, until: datetime) -> StoredX:
    """Per X conversation, the newest post stored before this night (what thread searches
    start after), and the authors of posts of the last weeks whose user objects are stored.

    Only posts of nights before `until` count, so running a night again asks what its
    first run asked; and for conversations only posts landed by complete runs, which
    searched every conversation they saw up to their night's end: a post landed by a run
    that failed before its thread searches must not hide the posts before it.
    """
    if not settings.db_path.exists():
        return StoredX()
    with connect(settings, read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        if not {"raw.x_posts", "raw.x_users", "ops.watermarks", "ops.loaded_files"} <= tables:
            return StoredX()
        (previous,) = con.execute(
            "select max(until) from ops.watermarks where platform = 'x' and until < ?", [until]
        ).fetchone()
        if previous is None:
            return StoredX()
        threads = con.execute(
            _STORED_THREADS_SQL, [until - STORED_THREADS_WINDOW, previous]
        ).fetchall()
        users = con.execute(_STORED_USERS_SQL, [until - STORED_USERS_WINDOW, previous]).fetchall()
        return StoredX(dict(threads), [user for (user,) in users])


_STORED_THREADS_SQL = """
select p.conversation_id, max(p.id::hugeint)::varchar
from raw.x_posts p
join ops.loaded_files f on f.landing_file = p.landing_file
join ops.extract_runs r
    on r.platform = f.platform and r.account = f.account and r.run_id = f.run_id
where r.complete and p.conversation_id is not null
    and p.created_at >= ? and p.created_at < ?
group by p.conversation_id
"""

# Recent authors only, so the list stays the size of a few weeks' activity; an author
# outside it is read again, which costs a read and loses nothing.
_STORED_USERS_SQL = """
select distinct p.author_id
from raw.x_posts p semi join raw.x_users u on u.id = p.author_id
where p.created_at >= ? and p.created_at < ?
order by p.author_id
"""


def plan_extract(
    settings: Settings,
    config: OrgConfig,
    until: datetime,
    platforms: tuple[str, ...] = PLATFORMS,
) -> list[ExtractTarget]:
    """One target per configured (platform, account), and one per Reddit subreddit search
    (account `r/<name>`), each with its watermarks from DuckDB."""
    marks = _watermarks(settings, until)
    stored_x = _stored_x(settings, until) if "x" in platforms else StoredX()
    targets = []
    for department in config.departments:
        for platform in platforms:
            source = getattr(config.sources, platform)
            stored = stored_x if platform == "x" else StoredX()
            for account in department.accounts.on(platform):
                since = marks.get((platform, account), {})
                targets.append(
                    ExtractTarget(platform, account, source, since, stored.threads, stored.users)
                )
    if "reddit" in platforms:
        # a keyword search is one extract per subreddit, with watermarks of its own
        for subreddit in config.reddit.search_targets():
            since = marks.get(("reddit", subreddit), {})
            targets.append(ExtractTarget("reddit", subreddit, config.sources.reddit, since))
    return targets


def make_source(
    target: ExtractTarget, config: OrgConfig, live_source: SourceFactory | None
) -> PageSource:
    if target.source == "simulated":
        from ingest.simulated import (
            SimulatedBlueskySource,
            SimulatedMastodonSource,
            SimulatedOrganization,
            SimulatedXSource,
        )

        simulated: dict[str, Callable[[SimulatedOrganization], PageSource]] = {
            "x": SimulatedXSource,
            "bluesky": SimulatedBlueskySource,
            "mastodon": SimulatedMastodonSource,
        }
        if target.platform not in simulated:
            raise ValueError(
                f"the simulated source serves X, Bluesky and Mastodon pages only; set "
                f"sources.{target.platform}: api"
            )
        return simulated[target.platform](config.for_simulation(target.platform))
    if live_source is None:
        raise ValueError(f"no live source for {target.platform} on this path")
    return live_source(target.platform, config)


def extract(
    settings: Settings,
    config: OrgConfig,
    target: ExtractTarget,
    run_id: str,
    until: datetime,
    live_source: SourceFactory | None = None,
) -> dict[str, Any]:
    """Pull one account's pages into the landing zone; returns a summary for logs/XCom."""
    until = until.astimezone(UTC)
    request = ExtractRequest(
        platform=target.platform,
        account=target.account,
        until=until,
        backfill_start=until - timedelta(days=config.backfill_days),
        since_ids=target.since_ids,
        stored_threads=target.stored_threads,
        stored_users=target.stored_users,
        read_strategy=target.read_strategy,
    )
    source = make_source(target, config, live_source)
    manifest = extract_to_landing(source, request, settings.landing_zone(), run_id, target.source)
    summary = {
        "platform": manifest.platform,
        "account": manifest.account,
        "pages": len(manifest.pages),
        "requests": manifest.requests,
        "endpoints": manifest.endpoints,
        "ceilings": manifest.ceilings,
    }
    log.info("extracted %s", summary)
    return summary


def load(settings: Settings) -> LoadReport:
    from ingest.load import load_landing
    from ingest.x.billing import bill_landed_runs

    with connect(settings) as con:
        report = load_landing(con, settings.landing_zone())
        # What X bills for the runs just loaded, across accounts (ops.x_billed_reads). The
        # data is committed by now: a bill that cannot be drawn must not fail the night;
        # its runs stay unbilled and the next load tries them again.
        try:
            bill_landed_runs(con)
        except Exception as exc:  # duckdb raises several kinds; none may stop the load
            log.warning("X reads not billed this time (the next load retries): %s", exc)
    log.info("load: %s", report.describe())
    return report


def reconcile(settings: Settings, until: datetime) -> list[Reconciliation]:
    """Balance the books of the night's extract runs; raises ReconciliationFailed if not."""
    from ingest.reconcile import reconcile_runs

    with connect(settings) as con:
        results = reconcile_runs(con, settings.landing_zone(), until.astimezone(UTC))
    for result in results:
        log.info("reconciled %s", result.describe())
    return results


def validate(
    settings: Settings, config: OrgConfig, run_id: str, night: datetime | None = None
) -> ValidationReport:
    """Validate staging and marts; raises ValidationFailed on a failed critical expectation.

    `night` (a nightly run's interval end) makes a re-run of the night replace its rows.
    """
    from transforms.quality import ValidationFailed
    from transforms.quality.run import validate_database

    with database.run_lock(settings.db_path):
        report = validate_database(settings.db_path, config.for_models(), run_id, night)
    if report.critical_failures:
        raise ValidationFailed(report)
    log.info(report.describe())
    return report


def nightly_window(config: OrgConfig, data_interval_end: datetime) -> BuildWindow:
    from transforms.build import BuildWindow

    return BuildWindow.rolling(data_interval_end, config.rolling_window_days)


def build(
    settings: Settings, config: OrgConfig, window: BuildWindow, full_refresh: bool = False
) -> dict[str, Any]:
    """Bring staging up to date and rebuild the marts for `window`; the verdict row as a dict.

    `full_refresh` restages every raw row instead of only those loaded since the last build.
    """
    from ingest.load import ensure_schema
    from transforms.build import build_models

    with connect(settings) as con:
        ensure_schema(con)  # a build on an empty database still yields empty marts
        build_models(
            con,
            config.for_models(),
            window,
            full_refresh=full_refresh,
            memory_limit=settings.build_memory_limit,
        )
        return verdict(con, window)


def verdict(con: duckdb.DuckDBPyConnection, window: BuildWindow) -> dict[str, Any]:
    cursor = con.execute(
        "select * from marts.org_verdict "
        "where window_start is not distinct from ? and window_end is not distinct from ?",
        [window.start, window.end],
    )
    columns = [c[0] for c in cursor.description]
    row = cursor.fetchone()
    if row is None:
        return {}
    # plain JSON values: the row travels through XCom and into logs
    return {
        column: value.isoformat() if isinstance(value, datetime) else value
        for column, value in zip(columns, row, strict=True)
    }


def describe_verdict(row: dict[str, Any]) -> str:
    if not row:
        return "no verdict: nothing was built"
    glue = row.get("glue_department") or "none"
    share = row.get("cross_department_share")
    share_text = "n/a" if share is None else f"{share:.1%}"
    return (
        f"verdict: {row['verdict']} (glue department: {glue}; "
        f"{row['engaged_conversations']} engaged conversations, "
        f"{share_text} cross-department)"
    )


class NightIncomplete(RuntimeError):
    """A planned account of the night is missing something; nothing was published."""

    retryable = False  # a retry finds the same night: it is run again, not retried

    def __init__(self, until: datetime, problems: list[str]):
        super().__init__(
            f"not published: the night ending {until:%Y-%m-%d %H:%M} UTC is not complete "
            "(the last good release stays published):\n  " + "\n  ".join(problems)
        )
        self.problems = problems


def check_night_complete(
    settings: Settings,
    config: OrgConfig,
    until: datetime,
    platforms: tuple[str, ...] = PLATFORMS,
) -> None:
    """Raise NightIncomplete unless every planned target of the night was extracted whole,
    loaded with no page left refused, and reconciled (ingest/completeness.py)."""
    from ingest.completeness import night_problems

    planned = [(t.platform, t.account) for t in plan_extract(settings, config, until, platforms)]
    if not planned or not settings.db_path.exists():
        return  # nothing planned; or no database, which publish refuses in its own words
    with connect(settings, read_only=True) as con:
        problems = night_problems(con, planned, until.astimezone(UTC))
    if problems:
        raise NightIncomplete(until, problems)


def built_night(settings: Settings) -> datetime | None:
    """The night the last build covers: its window's end, or for a build of every night
    (`--window all`) the latest night extracted; None when nothing was ever extracted."""
    if not settings.db_path.exists():
        return None
    with connect(settings, read_only=True) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for table, column in (("config.build_window", "window_end"), ("ops.extract_runs", "until")):
            if table in tables:
                found = con.execute(f"select max({column}) from {table}").fetchone()
                if found and found[0] is not None:
                    return found[0]
    return None


def publish(
    settings: Settings,
    config: OrgConfig,
    night: datetime | None,
    platforms: tuple[str, ...] = PLATFORMS,
    root: Path | None = None,
) -> Publication:
    """Copy the finished build's marts to the published root; dashboards read only there.

    Only a complete night is published (`check_night_complete`); `night` None: a build
    that no nightly extract fed (an imported file), which has no extract runs to check.
    """
    from siloscope.publish import publish as publish_release

    # under the run lock: what is copied is one finished build, not a run's half-way state
    with database.run_lock(settings.db_path):
        if night is not None:
            check_night_complete(settings, config, night, platforms)
        return publish_release(
            settings.db_path, root or settings.published_root, config.organization
        )


def report_page(settings: Settings, config: OrgConfig) -> Path:
    """The report page, drawn from the published copy: it shows what dashboards show."""
    from siloscope.publish import published_database
    from siloscope.report_page import write_report_page

    return write_report_page(
        published_database(settings.published_root), settings.report_path, config.organization
    )


def run_all(
    settings: Settings,
    run_id: str,
    until: datetime,
    platforms: tuple[str, ...] = PLATFORMS,
    live_source: SourceFactory | None = None,
) -> dict[str, Any]:
    """Every step in order, without Airflow: plan, extract each account, load, reconcile,
    build, validate, then publish and draw the report page if every account was extracted."""
    config = load_config(settings.config_path)
    with connect(settings):  # a database another process holds stops the run before any fetch
        pass
    failures = []
    for target in plan_extract(settings, config, until, platforms):
        try:
            extract(settings, config, target, run_id, until, live_source)
        except Exception as exc:  # one account's failure must not stop the others
            log.error("extract %s/%s failed: %s", target.platform, target.account, exc)
            failures.append(f"{target.platform}/{target.account}: {exc}")
    load(settings)
    reconcile(settings, until)
    row = build(settings, config, nightly_window(config, until))
    validate(settings, config, run_id, until)
    if failures:
        raise ExtractFailed(failures, row)
    publish(settings, config, until, platforms)
    report_page(settings, config)
    return row


class ExtractFailed(RuntimeError):
    """Some accounts failed; the others were loaded and built, and `verdict` holds the result."""

    def __init__(self, failures: list[str], verdict: dict[str, Any] | None = None):
        super().__init__(
            "extract failed for "
            + "; ".join(failures)
            + " (what landed was loaded and built, but not published; fix and re-run to "
            "fill the gap)"
        )
        self.failures = failures
        self.verdict = verdict or {}
