"""Load: the one task that writes DuckDB.

New landing files become rows of raw.* tables, inserted by message id only when the id is
new, so loading the same pages again changes nothing. A page that is not valid JSON, or a
record that lacks what staging needs, goes to ops.rejects with its reason and its landing
file; the rest of the page loads. The data, the rejects, the list of loaded files, the
extract runs and the per-account watermarks are written in one transaction: after a crash
either all of a load is there or none of it, and the next load picks up the same files.

Parsing happens inside DuckDB (read_json_objects over all new files at once), not in
Python: loading is where a nightly job spends its time, and this keeps it close to the
DuckDB floor.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingest.formats import FORMATS
from ingest.landing import LandingZone, Manifest
from ingest.twcs.schema import SCHEMA_SQL as TWCS_SCHEMA_SQL

if TYPE_CHECKING:
    import duckdb

SCHEMA_SQL = """
create schema if not exists raw;
create schema if not exists ops;
-- Every load (of landed pages, or of an imported file) draws one number, and every raw row
-- it inserts carries it as load_id: the builds after it pick up exactly the rows loads
-- after their last one brought (transforms: `-- materialized: incremental`). A sequence,
-- not loaded_at: numbers only grow, whatever the machine's clock does.
create sequence if not exists ops.load_ids;
create table if not exists ops.extract_runs (
    manifest varchar not null,
    manifest_sha256 varchar not null,
    platform varchar, account varchar, source varchar, run_id varchar, dt date,
    until timestamptz,
    started_at timestamptz, finished_at timestamptz,
    complete boolean, error varchar,
    requests integer, pages integer, ceilings varchar[],
    loaded_at timestamptz not null
);
-- one row per extract run, account and endpoint: what each endpoint cost and returned,
-- and the API limits it ran into (data that exists but was not served)
create table if not exists ops.extract_endpoints (
    manifest varchar not null,
    platform varchar, account varchar, run_id varchar, until timestamptz,
    endpoint varchar not null,
    since_id varchar,             -- the watermark the run started from; null: a backfill
    watermark varchar,            -- where the run left it; null when the run failed
    requests integer,             -- HTTP attempts, retries included
    pages integer,
    posts integer,
    included_posts integer,       -- posts the pages refer to (X: includes.tweets)
    users integer,
    api_errors integer,           -- problems inside successful answers (deleted posts ...)
    rate_limited integer,         -- "too many requests" answers
    billable_reads integer,
    ceilings varchar[],
    loaded_at timestamptz not null
);
create table if not exists ops.loaded_files (
    landing_file varchar not null,
    sha256 varchar not null,
    platform varchar, account varchar, endpoint varchar, run_id varchar,
    records_received integer,     -- data + includes.tweets records on the page
    records_loaded integer,       -- new ids inserted
    records_duplicate integer,    -- ids already loaded (or twice on this batch)
    records_rejected integer,
    loaded_at timestamptz not null
);
create table if not exists ops.rejects (
    landing_file varchar not null,
    record_path varchar,          -- e.g. data[3]; null when the whole page was refused
    platform varchar, account varchar,
    reason varchar not null,
    record varchar,               -- the record (or page body) as received
    rejected_at timestamptz not null,
    -- a later copy of the same landing file was loaded (ops.load_ids): the reject is kept,
    -- for the record, but no longer holds anything back; null while it does
    resolved_at timestamptz,
    resolved_by_load bigint
);
-- A second copy of a message whose record differs from the copy loaded (an edit, or a
-- source serving two versions): the first copy loaded stays in raw.*, every other version
-- is kept here, never dropped in silence.
create table if not exists ops.conflicts (
    landing_file varchar not null,  -- where this copy was found
    record_path varchar,
    platform varchar not null,
    message_id varchar not null,    -- the key of the raw table (X id, Reddit fullname, AT URI)
    kept_landing_file varchar,      -- where the copy kept in raw.* came from
    record varchar,                 -- this copy, as received
    load_id bigint,
    detected_at timestamptz not null
);
-- databases created before rejects were resolved
alter table ops.rejects add column if not exists resolved_at timestamptz;
alter table ops.rejects add column if not exists resolved_by_load bigint;
-- one row per night: a run of night N starts from the watermark of the latest night
-- before N, so running night N again asks for exactly what it asked the first time
create table if not exists ops.watermarks (
    platform varchar not null, account varchar not null, endpoint varchar not null,
    until timestamptz not null,   -- the data interval end of the run that reached it
    since_id varchar not null, run_id varchar, updated_at timestamptz not null
);
"""

_MALFORMED_FILE = re.compile(r'in file "([^"]+)"')

# Pages refused whole and not loaded since: a new copy at the same path is loaded even when
# its bytes are those of the refused one (a truncated copy on disk, the source's bytes intact).
_STILL_REFUSED_SQL = (
    "select distinct landing_file from ops.rejects "
    "where record_path is null and resolved_at is null"
)
_REJECT_COLUMNS = "landing_file, record_path, platform, account, reason, record, rejected_at"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL)
    for page_format in FORMATS.values():
        con.execute(page_format.SCHEMA_SQL)
    con.execute(TWCS_SCHEMA_SQL)  # imported files, not landed pages: staging reads them too


@dataclass
class LoadReport:
    manifests: int = 0
    files: int = 0
    records_loaded: int = 0
    records_duplicate: int = 0
    records_rejected: int = 0
    pages_rejected: int = 0
    incomplete_runs: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.files} new page(s) from {self.manifests} run(s): "
            f"{self.records_loaded} record(s) loaded, {self.records_duplicate} duplicate(s) "
            f"skipped, {self.records_rejected} record(s) and {self.pages_rejected} page(s) "
            "rejected"
        )


@dataclass(frozen=True)
class _PendingPage:
    url: str
    sha256: str
    platform: str
    account: str
    endpoint: str
    run_id: str
    size: int  # bytes, as the manifest lists it


# DuckDB's reader refuses a JSON object larger than this (its default, 16 MB) unless told
DEFAULT_MAXIMUM_OBJECT_SIZE = 16 * 1024 * 1024


def maximum_object_size(sizes: list[int]) -> int:
    """Big enough for the largest page: a whole page is one JSON object, of any size."""
    return max([DEFAULT_MAXIMUM_OBJECT_SIZE, *(size + 1 for size in sizes)])


def _pending(
    con: duckdb.DuckDBPyConnection, landing: LandingZone
) -> tuple[list[tuple[str, str, Manifest]], list[_PendingPage]]:
    """Manifests not loaded yet (or rewritten by a re-run), and their pages not loaded yet.

    A page counts as loaded by what was loaded, not by what was seen: a page refused whole
    is read again when its run is landed again, whatever its bytes.
    """
    loaded_manifests = set(
        con.execute("select manifest, manifest_sha256 from ops.extract_runs").fetchall()
    )
    refused = {url for (url,) in con.execute(_STILL_REFUSED_SQL).fetchall()}
    loaded_pages = {
        (url, sha256)
        for url, sha256 in con.execute(
            "select landing_file, sha256 from ops.loaded_files"
        ).fetchall()
        if url not in refused
    }
    manifests, pages = [], []
    for path in landing.manifest_paths():
        body = landing.read(path)
        digest = hashlib.sha256(body).hexdigest()
        url = landing.url(path)
        if (url, digest) in loaded_manifests:
            continue
        manifest = Manifest.from_json(body)
        manifests.append((url, digest, manifest))
        run_dir = posixpath.dirname(path)
        for page in manifest.pages:
            page_url = landing.url(f"{run_dir}/{page.file}")
            if (page_url, page.sha256) not in loaded_pages:
                pages.append(
                    _PendingPage(
                        page_url,
                        page.sha256,
                        manifest.platform,
                        manifest.account,
                        page.endpoint,
                        manifest.run_id,
                        page.bytes,
                    )
                )
    return manifests, pages


def _read_pages(
    con: duckdb.DuckDBPyConnection, landing: LandingZone, pages: list[_PendingPage]
) -> None:
    """Fill temp table _pages (url, page json); pages that do not parse go to _page_rejects.

    DuckDB names the first malformed file when a batch fails; that file is set aside with
    the parser's message and the batch is read again. Broken pages are rare, so this
    costs one extra pass per broken page, not a Python parse of every page.
    """
    con.execute(
        "create or replace temp table _page_rejects (url varchar, reason varchar, body varchar)"
    )
    remaining = [page.url for page in pages]
    largest = maximum_object_size([page.size for page in pages])
    while remaining:
        try:
            con.execute(
                "create or replace temp table _pages as select filename as url, json as page "
                "from read_json_objects(?, format = 'unstructured', filename = true, "
                f"maximum_object_size = {largest})",
                [remaining],
            )
            return
        except Exception as exc:  # duckdb raises InvalidInputException or IOException
            match = _MALFORMED_FILE.search(str(exc))
            broken = match.group(1) if match else None
            if broken in remaining:
                message = str(exc).split("\n")[0].strip()
            else:
                broken = _first_unreadable(con, remaining, largest)
                if broken is None:
                    raise
                message = _read_error(con, broken, largest) or "not readable"
            body = landing.read(broken).decode("utf-8", errors="replace")
            con.execute("insert into _page_rejects values (?, ?, ?)", [broken, message, body])
            remaining.remove(broken)
    con.execute("create or replace temp table _pages (url varchar, page json)")


def _read_error(con: duckdb.DuckDBPyConnection, url: str, largest: int) -> str | None:
    try:
        con.execute(
            "select 1 from read_json_objects(?, format = 'unstructured', "
            f"maximum_object_size = {largest})",
            [url],
        )
        return None
    except Exception as exc:
        return str(exc).split("\n")[0]


def _first_unreadable(con: duckdb.DuckDBPyConnection, urls: list[str], largest: int) -> str | None:
    return next((url for url in urls if _read_error(con, url, largest) is not None), None)


_PLATFORM_RESULTS_SQL = """
insert into ops.rejects (landing_file, record_path, platform, account, reason, record, rejected_at)
select r.url, r.record_path, p.platform, p.account, r.reason, r.record::varchar, now()
from (
    select url, record_path, reason, record from _records where reason is not null
    union all
    select url, record_path, reason, record from _auxiliary_rejects
) r join _pending_pages p on p.url = r.url;

insert into ops.rejects (landing_file, record_path, platform, account, reason, record, rejected_at)
select c.url, null, p.platform, p.account, c.reason, pg.page::varchar, now()
from _page_checks c join _platform_pages pg using (url) join _pending_pages p on p.url = c.url
where c.reason is not null;

insert into _file_counts
select p.url,
    coalesce(r.received, 0), coalesce(n.loaded, 0),
    coalesce(r.valid, 0) - coalesce(n.loaded, 0),
    coalesce(r.rejected, 0) + (c.reason is not null)::integer
from _platform_pages p
left join _page_checks c using (url)
left join (
    select url, count(*) as received, count(*) filter (reason is null) as valid,
        count(*) filter (reason is not null) as rejected
    from _records group by url
) r using (url)
left join (select url, count(*) as loaded from _new_records group by url) n using (url);
"""

_FILE_COUNTS_SQL = """
-- a page rewritten by a re-run replaces what its earlier version left behind
delete from ops.loaded_files where landing_file in (select url from _pending_pages);
insert into ops.loaded_files
select p.url, p.sha256, p.platform, p.account, p.endpoint, p.run_id,
    coalesce(c.received, 0), coalesce(c.loaded, 0), coalesce(c.duplicate, 0),
    coalesce(c.rejected, 0) + (r.url is not null)::integer,
    now()
from _pending_pages p
left join _file_counts c using (url)
left join _page_rejects r using (url);
"""


def _new_records_sql(platform: str) -> str:
    """Dedupe, the same for every format: the valid records whose key is not loaded yet,
    the first copy of each key in the batch (in the format's BATCH_ORDER)."""
    page_format = FORMATS[platform]
    return f"""
create or replace temp table _new_records as
with first_in_batch as (
    select * from _records
    where reason is null
    qualify row_number() over (
        partition by {", ".join(page_format.MESSAGE_KEY)} order by {page_format.BATCH_ORDER}
    ) = 1
)
select f.* from first_in_batch f
anti join {page_format.MESSAGES_TABLE} existing on {_same_key(page_format.MESSAGE_KEY, "f")}
"""


def _same_key(key: tuple[str, ...], alias: str) -> str:
    """The join condition of `existing` (the raw table) and `alias` on every key column."""
    return " and ".join(f"existing.{column} = {alias}.{column}" for column in key)


def _conflicts_sql(platform: str) -> str:
    """Valid copies not inserted (duplicates) whose record differs from the one in raw.*.

    Run after the format's INSERT_SQL, so raw.* already holds this batch's first copies:
    one join covers copies within the batch and copies of earlier loads. Each version is
    recorded once: a night run again lands the same copies in a run folder of its own.
    """
    page_format = FORMATS[platform]
    key = page_format.MESSAGE_KEY
    message_id = f"concat_ws('/', {', '.join(f'r.{column}' for column in key)})"
    return f"""
insert into ops.conflicts
select * from (
    select r.url, r.record_path, '{platform}' as platform, {message_id} as message_id,
        existing.landing_file, r.record::varchar as record, (select load_id from _load), now()
    from _records r
    join {page_format.MESSAGES_TABLE} existing on {_same_key(key, "r")}
    where r.reason is null
        and r.record::varchar is distinct from existing.record::varchar
        and not exists (
            select 1 from _new_records n where n.url = r.url and n.record_path = r.record_path
        )
    qualify row_number() over (
        partition by {message_id}, r.record::varchar order by r.url, r.record_path
    ) = 1
) version
where not exists (
    select 1 from ops.conflicts seen
    where seen.platform = version.platform and seen.message_id = version.message_id
        and seen.record = version.record
)
"""


def _record_runs(
    con: duckdb.DuckDBPyConnection, manifests: list[tuple[str, str, Manifest]]
) -> None:
    for url, digest, manifest in manifests:
        # a re-run of the same night rewrote this manifest: its row is replaced, not added
        con.execute("delete from ops.extract_runs where manifest = ?", [url])
        con.execute("delete from ops.extract_endpoints where manifest = ?", [url])
        con.execute(
            "insert into ops.extract_runs "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                url,
                digest,
                manifest.platform,
                manifest.account,
                manifest.source,
                manifest.run_id,
                manifest.dt,
                manifest.until,
                manifest.started_at,
                manifest.finished_at,
                manifest.complete,
                manifest.error,
                manifest.requests,
                len(manifest.pages),
                manifest.ceilings,
            ],
        )
        _record_endpoints(con, url, manifest)
        if not manifest.complete or _has_refused_pages(con, url):
            continue
        _settle_earlier_runs(con, url, manifest)
        for endpoint, since_id in manifest.watermarks.items():
            key = [manifest.platform, manifest.account, endpoint, manifest.until]
            con.execute(
                "delete from ops.watermarks "
                "where platform = ? and account = ? and endpoint = ? and until = ?",
                key,
            )
            con.execute(
                "insert into ops.watermarks values (?, ?, ?, ?, ?, ?, now())",
                [*key, since_id, manifest.run_id],
            )


def _has_refused_pages(con: duckdb.DuckDBPyConnection, manifest_url: str) -> bool:
    """A page of this run is refused: its posts are not loaded, so the watermark must not
    pass them (the next night would never ask for them again)."""
    run_dir = posixpath.dirname(manifest_url) + "/"
    found = con.execute(
        f"select count(*) from ({_STILL_REFUSED_SQL}) where starts_with(landing_file, ?)",
        [run_dir],
    ).fetchone()
    return bool(found and found[0])


_SETTLE_EARLIER_RUNS_SQL = """
update ops.rejects set resolved_at = now(), resolved_by_load = (select load_id from _load)
where resolved_at is null and exists (
    select 1 from ops.extract_runs earlier
    where earlier.platform = $platform and earlier.account = $account
        and earlier.until = $until and earlier.manifest <> $manifest
        and earlier.started_at <= $started_at
        and starts_with(ops.rejects.landing_file, regexp_replace(earlier.manifest, '[^/]*$', ''))
)
"""


def _settle_earlier_runs(
    con: duckdb.DuckDBPyConnection, manifest_url: str, manifest: Manifest
) -> None:
    """A later run of the night, complete and loaded whole, fetched again what the earlier
    runs' rejected pages and records held: their rejects are kept, marked resolved."""
    con.execute(
        _SETTLE_EARLIER_RUNS_SQL,
        {
            "platform": manifest.platform,
            "account": manifest.account,
            "until": manifest.until,
            "manifest": manifest_url,
            "started_at": manifest.started_at,
        },
    )


_ENDPOINT_COUNTS = (
    "requests",
    "pages",
    "posts",
    "included_posts",
    "users",
    "api_errors",
    "rate_limited",
    "billable_reads",
)


def _record_endpoints(con: duckdb.DuckDBPyConnection, url: str, manifest: Manifest) -> None:
    rows = []
    for endpoint, counts in manifest.endpoints.items():
        # ceilings of one endpoint start with its name, "mentions: the API serves ..."
        ceilings = [c for c in manifest.ceilings if c.startswith(f"{endpoint}:")]
        rows.append(
            [
                url,
                manifest.platform,
                manifest.account,
                manifest.run_id,
                manifest.until,
                endpoint,
                manifest.since_ids.get(endpoint),
                manifest.watermarks.get(endpoint) if manifest.complete else None,
                *(int(counts.get(name, 0)) for name in _ENDPOINT_COUNTS),
                ceilings,
            ]
        )
    if rows:
        columns = [
            "manifest",
            "platform",
            "account",
            "run_id",
            "until",
            "endpoint",
            "since_id",
            "watermark",
            *_ENDPOINT_COUNTS,
            "ceilings",
        ]
        con.executemany(
            f"insert into ops.extract_endpoints ({', '.join(columns)}, loaded_at) "
            f"values ({', '.join('?' for _ in columns)}, now())",
            rows,
        )


def load_landing(con: duckdb.DuckDBPyConnection, landing: LandingZone) -> LoadReport:
    """Load every landed page not loaded before; one transaction."""
    ensure_schema(con)
    if not landing.is_local:
        con.register_filesystem(landing.fs)
    manifests, pages = _pending(con, landing)
    report = LoadReport(manifests=len(manifests), files=len(pages))
    report.incomplete_runs = [url for url, _, m in manifests if not m.complete]
    unsupported = sorted({p.platform for p in pages} - FORMATS.keys())
    if unsupported:
        raise ValueError(f"no page format for landed platform(s) {unsupported}")
    # manifests must be read in order so the newest complete run sets the watermark
    manifests.sort(key=lambda item: (item[2].finished_at or "", item[0]))
    con.execute(
        "create or replace temp table _pending_pages (url varchar, sha256 varchar, "
        "platform varchar, account varchar, endpoint varchar, run_id varchar)"
    )
    if pages:
        # one statement with a list per column: executemany pays a round trip per page
        con.execute(
            "insert into _pending_pages select unnest($url), unnest($sha256), "
            "unnest($platform), unnest($account), unnest($endpoint), unnest($run_id)",
            {
                column: [getattr(page, column) for page in pages]
                for column in ("url", "sha256", "platform", "account", "endpoint", "run_id")
            },
        )
    # Parsing happens before the transaction: a parse error would abort it.
    _read_pages(con, landing, pages)
    # Left to itself DuckDB stores JSON with dictionary+FSST; zstd stores it in half the
    # space (measured: 1M posts, 103 MB instead of 207 MB) and a little faster.
    con.execute("set force_compression = 'zstd'")
    con.execute("begin transaction")
    try:
        con.execute(
            "create or replace temp table _load as select nextval('ops.load_ids') as load_id"
        )
        # a page loaded again settles what its earlier copy left: kept, marked resolved
        con.execute(
            "update ops.rejects set resolved_at = now(), "
            "resolved_by_load = (select load_id from _load) "
            "where resolved_at is null and landing_file in (select url from _pending_pages)"
        )
        con.execute(
            f"insert into ops.rejects ({_REJECT_COLUMNS}) select r.url, null, p.platform, "
            "p.account, r.reason, r.body, now() "
            "from _page_rejects r join _pending_pages p on p.url = r.url"
        )
        con.execute(
            "create or replace temp table _file_counts (url varchar, received bigint, "
            "loaded bigint, duplicate bigint, rejected bigint)"
        )
        for platform in sorted({p.platform for p in pages}):
            # A view, not a copy: the format's RECORDS_SQL reads each page once. `platform` is
            # one of FORMATS' keys (checked above), never text from a landed file.
            con.execute(
                "create or replace temp view _platform_pages as select * from _pages "
                f"where url in (select url from _pending_pages where platform = '{platform}')"
            )
            page_format = FORMATS[platform]
            con.execute(page_format.RECORDS_SQL)
            con.execute(_new_records_sql(platform))
            con.execute(page_format.INSERT_SQL)
            con.execute(_conflicts_sql(platform))
            con.execute(_PLATFORM_RESULTS_SQL)
        con.execute(_FILE_COUNTS_SQL)
        _record_runs(con, manifests)
        # a refused page counts one rejected record and received none
        (
            report.records_loaded,
            report.records_duplicate,
            report.records_rejected,
            report.pages_rejected,
        ) = (
            int(value)
            for value in con.execute(
                "select coalesce(sum(records_loaded), 0), coalesce(sum(records_duplicate), 0), "
                "coalesce(sum(records_rejected) filter (records_received > 0), 0), "
                "count(*) filter (records_received = 0 and records_rejected > 0) "
                "from ops.loaded_files where landing_file in (select url from _pending_pages)"
            ).fetchall()[0]
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("reset force_compression")
    return report
