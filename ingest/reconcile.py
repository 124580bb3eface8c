"""Reconciliation: every record an extract run fetched is loaded, rejected or a known duplicate.

Per extract run (platform, account, night) the books must balance:

    records fetched = records loaded + records rejected + duplicates skipped

"Fetched" is counted on the landed pages themselves, by the page format's own
FETCHED_RECORDS_SQL, read again with DuckDB; the other three are what the loader
recorded in ops.loaded_files. Taking "fetched" from the loader too would let a record it
dropped balance its own books. A page the loader never loaded counts its records as
fetched and nothing else, so it shows as well.

Where the manifest of a complete run carries the extractor's own per-endpoint counts
(posts and included posts, counted as the source served them), the landed pages must
hold at least as many: a record lost between the API and the landing zone shows there.
At least, not exactly: a source may leave out of its count what it knows the loader will
reject (the Reddit source skips things without a creation time).

A page the loader refused whole (not JSON, not a page of its format) is kept in
ops.rejects with its body: its records count as rejected. A page that is not JSON cannot
be counted and adds no records; it shows in `pages_refused`. Either way the run does not
balance while such a page stays refused: its records are missing, not accounted for. The
night run again lands the page again, the loader reads it again and the reject is
resolved (ops.rejects.resolved_at).

Every result is written to ops.reconciliations (one row per extract run, replaced when the
night runs again); any run that does not balance raises ReconciliationFailed naming the
numbers.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from ingest.formats import FORMATS
from ingest.landing import LandingZone, Manifest
from ingest.load import maximum_object_size

if TYPE_CHECKING:
    import duckdb

SCHEMA_SQL = """
create schema if not exists ops;
create table if not exists ops.reconciliations (
    manifest varchar not null,        -- the extract run, as in ops.extract_runs
    platform varchar, account varchar, source varchar,
    run_id varchar,                   -- the orchestrator run that fetched the pages
    until timestamptz,                -- the night the extract run covers
    pages integer,                    -- landed pages the manifest lists
    pages_not_loaded integer,         -- of those, never loaded (their records count as lost)
    pages_refused integer,            -- refused whole by the loader, kept in ops.rejects
    records_extracted bigint,         -- as the extractor counted them; null: not counted
    records_fetched bigint,           -- counted on the landed pages
    records_loaded bigint,
    records_rejected bigint,
    records_duplicate bigint,         -- ids already loaded, skipped
    balanced boolean,                 -- null: the page format cannot count its records
    problem varchar,                  -- why it does not balance, in words
    reconciled_at timestamptz not null
);
"""

_PER_RUN_SQL = """
with pages as (
    select * from _reconciled_pages
),
loaded as (
    select landing_file as url, sha256,
        records_loaded, records_duplicate, records_rejected
    from ops.loaded_files
),
-- a page refused whole: its records count as rejected; while no later copy or run settled
-- it (resolved_at), it also holds the run back
refused as (
    select landing_file as url, bool_and(resolved_at is not null) as resolved
    from ops.rejects where record_path is null group by landing_file
),
per_page as (
    select
        p.manifest,
        p.fetched,
        l.url is not null as was_loaded,
        r.url is not null and not r.resolved as was_refused,
        coalesce(l.records_loaded, 0) as loaded,
        coalesce(l.records_duplicate, 0) as duplicate,
        case
            when r.url is not null then coalesce(p.fetched, 0)
            else coalesce(l.records_rejected, 0)
        end as rejected
    from pages as p
    left join loaded as l on l.url = p.url and l.sha256 = p.sha256
    left join refused as r on r.url = p.url and l.url is not null
)
select
    manifest,
    count(*) as pages,
    count(*) filter (where not was_loaded) as pages_not_loaded,
    count(*) filter (where was_refused) as pages_refused,
    coalesce(sum(coalesce(fetched, 0)), 0) as records_fetched,
    coalesce(sum(loaded), 0) as records_loaded,
    coalesce(sum(rejected), 0) as records_rejected,
    coalesce(sum(duplicate), 0) as records_duplicate
from per_page
group by manifest
"""


@dataclass(frozen=True)
class Reconciliation:
    manifest: str
    platform: str
    account: str
    source: str
    run_id: str
    until: datetime
    pages: int = 0
    pages_not_loaded: int = 0
    pages_refused: int = 0
    records_fetched: int = 0
    records_loaded: int = 0
    records_rejected: int = 0
    records_duplicate: int = 0
    records_extracted: int | None = None
    problem: str | None = None
    countable: bool = True
    superseded: bool = False  # a later run of the night, for the same account, balances

    @property
    def balanced(self) -> bool | None:
        return None if not self.countable else self.problem is None

    @property
    def books_balance(self) -> bool:
        """Every record counted is loaded, rejected or a known duplicate. A run can balance
        its books and still not be balanced: a page refused whole holds it back (its
        records count as rejected, but are missing), which the publish gate stops."""
        return self.countable is False or self.problem is None or self.pages_refused_only

    @property
    def pages_refused_only(self) -> bool:
        return bool(self.problem and self.problem == _refused_problem(self.pages_refused))

    @property
    def subject(self) -> str:
        return (
            f"{self.platform}/{self.account} (source {self.source}, night "
            f"{self.until:%Y-%m-%d}, run {self.run_id})"
        )

    def describe(self) -> str:
        accounted = self.records_loaded + self.records_rejected + self.records_duplicate
        books = (
            f"fetched {self.records_fetched} record(s); loaded {self.records_loaded} + "
            f"rejected {self.records_rejected} + duplicates skipped {self.records_duplicate} "
            f"= {accounted}"
        )
        return f"{self.subject}: {books}" + (f": {self.problem}" if self.problem else "")


def _problem(counts: dict[str, int], extracted: int | None) -> str | None:
    problems = []
    if extracted is not None and extracted > counts["records_fetched"]:
        problems.append(
            f"the extractor counted {extracted} record(s), the landed pages hold only "
            f"{counts['records_fetched']}"
        )
    accounted = counts["records_loaded"] + counts["records_rejected"] + counts["records_duplicate"]
    if counts["records_fetched"] != accounted:
        gap = counts["records_fetched"] - accounted
        problems.append(
            f"{gap} record(s) unaccounted for"
            if gap > 0
            else f"{-gap} record(s) more accounted for than fetched"
        )
    if counts["pages_refused"]:
        problems.append(_refused_problem(counts["pages_refused"]))
    if counts["pages_not_loaded"]:
        problems.append(f"{counts['pages_not_loaded']} of {counts['pages']} page(s) never loaded")
    return "; ".join(problems) or None


def _refused_problem(pages_refused: int) -> str:
    return (
        f"{pages_refused} page(s) refused whole (ops.rejects): their records are not "
        "loaded; run the night again once the source serves them"
    )


class ReconciliationFailed(RuntimeError):
    """The books of some account do not balance. The same pages give the same books, so
    retrying cannot heal it (`retryable`: the DAG fails the task at once)."""

    retryable = False

    def __init__(self, failures: list[Reconciliation]):
        super().__init__(
            "reconciliation failed: records fetched != loaded + rejected + duplicates skipped\n"
            + "\n".join(f"  {r.describe()}" for r in failures)
        )
        self.failures = failures


def _read_pages(con: duckdb.DuckDBPyConnection, urls: list[str], largest: int) -> None:
    """Fill temp table _landed_pages (url, page json); a page that is not JSON is left out.

    One DuckDB pass over all pages; only when some page does not parse, page by page.
    `largest`: the reader's maximum_object_size, big enough for the largest page.
    """
    query = (
        "select filename as url, json as page "
        "from read_json_objects(?, format = 'unstructured', filename = true, "
        f"maximum_object_size = {int(largest)})"
    )
    con.execute("create or replace temp table _landed_pages (url varchar, page json)")
    if not urls:
        return
    try:
        con.execute(f"insert into _landed_pages {query}", [urls])
        return
    except Exception:  # duckdb raises InvalidInputException or IOException
        pass
    for url in urls:
        try:
            con.execute(f"insert into _landed_pages {query}", [[url]])
        except Exception:
            continue


def _stage_manifests(
    con: duckdb.DuckDBPyConnection, landing: LandingZone, runs: list[tuple]
) -> tuple[dict[str, str], dict[str, int]]:
    """Every run's landed pages into _reconciled_pages. Returns the manifests that changed
    since they were loaded (with why) and what each complete run says it extracted."""
    changed: dict[str, str] = {}
    extracted: dict[str, int] = {}
    for manifest_url, manifest_sha, platform, *_ in runs:
        body = landing.read(manifest_url)
        manifest = Manifest.from_json(body)
        if hashlib.sha256(body).hexdigest() != manifest_sha:
            changed[manifest_url] = "the manifest changed after it was loaded: load again"
        if manifest.complete and manifest.endpoints:
            extracted[manifest_url] = sum(
                counts.get("posts", 0) + counts.get("included_posts", 0)
                for counts in manifest.endpoints.values()
            )
        run_dir = posixpath.dirname(manifest_url)
        landed = [
            (manifest_url, platform, f"{run_dir}/{p.file}", p.sha256, p.bytes)
            for p in manifest.pages
        ]
        if landed:  # a run that failed before its first page landed nothing
            con.executemany("insert into _reconciled_pages values (?, ?, ?, ?, null, ?)", landed)
    return changed, extracted


def _count_fetched(con: duckdb.DuckDBPyConnection, platforms: list[str]) -> set[str]:
    """The records each landed page holds, by its platform's format; returns the platforms
    whose format cannot count them."""
    uncountable = set()
    for platform in platforms:
        count_sql = getattr(FORMATS.get(platform), "FETCHED_RECORDS_SQL", None)
        if count_sql is None:
            uncountable.add(platform)
            continue
        con.execute(
            f"update _reconciled_pages set fetched = counted.records "
            f"from (select url, sum(records) as records from ({count_sql}) group by url) "
            f"as counted where counted.url = _reconciled_pages.url "
            f"and _reconciled_pages.platform = ?",
            [platform],
        )
    return uncountable


def reconcile_runs(
    con: duckdb.DuckDBPyConnection, landing: LandingZone, until: datetime
) -> list[Reconciliation]:
    """Reconcile every extract run of the night ending `until` that was loaded; record all.

    Returns the results; raises ReconciliationFailed when any run does not balance (after
    recording every result, so ops.reconciliations shows the good runs beside the bad).
    """
    con.execute(SCHEMA_SQL)
    if not landing.is_local:
        con.register_filesystem(landing.fs)
    runs = con.execute(
        "select manifest, manifest_sha256, platform, account, source, run_id, until "
        "from ops.extract_runs where until = ? order by platform, account, started_at, manifest",
        [until],
    ).fetchall()
    results: list[Reconciliation] = []
    con.execute(
        "create or replace temp table _reconciled_pages "
        "(manifest varchar, platform varchar, url varchar, sha256 varchar, fetched bigint, "
        "bytes bigint)"
    )
    changed, extracted = _stage_manifests(con, landing, runs)
    urls = [url for (url,) in con.execute("select url from _reconciled_pages").fetchall()]
    sizes = [size for (size,) in con.execute("select bytes from _reconciled_pages").fetchall()]
    _read_pages(con, urls, maximum_object_size(sizes))
    uncountable = _count_fetched(con, sorted({run[2] for run in runs}))
    cursor = con.execute(_PER_RUN_SQL)
    columns = [c[0] for c in cursor.description]
    counts = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    for manifest_url, _, platform, account, source, run_id, run_until in runs:
        found = counts.get(manifest_url) or {
            "pages": 0,
            "pages_not_loaded": 0,
            "pages_refused": 0,
            "records_fetched": 0,
            "records_loaded": 0,
            "records_rejected": 0,
            "records_duplicate": 0,
        }
        found = {k: v for k, v in found.items() if k != "manifest"}
        problem = changed.get(manifest_url) or _problem(found, extracted.get(manifest_url))
        countable = platform not in uncountable
        if not countable:
            problem = f"the {platform} page format has no FETCHED_RECORDS_SQL: not reconciled"
        results.append(
            Reconciliation(
                manifest_url,
                platform,
                account,
                source,
                run_id,
                run_until,
                records_extracted=extracted.get(manifest_url),
                problem=problem,
                countable=countable,
                superseded=False,  # settled below, once every run of the night is counted
                **{k: int(v) for k, v in found.items()},
            )
        )
    results = _settled_by_later_runs(results)
    _record(con, results)
    # A refused page alone does not stop the night (the other accounts are built); it
    # leaves the run unbalanced, and the publish gate refuses the night.
    failures = [r for r in results if not r.books_balance and not r.superseded]
    if failures:
        raise ReconciliationFailed(failures)
    return results


def _settled_by_later_runs(results: list[Reconciliation]) -> list[Reconciliation]:
    """A run of the night that does not balance is settled by a later run of the same
    night and account that does: that run fetched the night again, and its books hold.
    The broken run stays on record, saying so. `results` are in start order per account."""
    settled = []
    for number, result in enumerate(results):
        later = next(
            (
                r
                for r in results[number + 1 :]
                if (r.platform, r.account) == (result.platform, result.account) and r.balanced
            ),
            None,
        )
        if result.balanced is False and later is not None:
            result = replace(
                result,
                superseded=True,
                problem=f"{result.problem}; superseded by run {later.run_id}, which balances",
            )
        settled.append(result)
    return settled


def _record(con: duckdb.DuckDBPyConnection, results: list[Reconciliation]) -> None:
    con.execute("begin transaction")
    try:
        for r in results:
            con.execute("delete from ops.reconciliations where manifest = ?", [r.manifest])
            con.execute(
                "insert into ops.reconciliations "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                [
                    r.manifest,
                    r.platform,
                    r.account,
                    r.source,
                    r.run_id,
                    r.until,
                    r.pages,
                    r.pages_not_loaded,
                    r.pages_refused,
                    r.records_extracted,
                    r.records_fetched,
                    r.records_loaded,
                    r.records_rejected,
                    r.records_duplicate,
                    r.balanced,
                    r.problem,
                ],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
