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

from ingest.landing import LandingZone, Manifest

if TYPE_CHECKING:
    import duckdb

SCHEMA_SQL = """
create schema if not exists raw;
create schema if not exists ops;
create table if not exists raw.x_posts (
    id varchar not null,          -- the post id, as the API gives it
    record json not null,         -- the post object exactly as received
    account varchar not null,     -- the org account whose extract landed it first
    landing_file varchar not null,
    loaded_at timestamptz not null
);
create table if not exists raw.x_users (
    id varchar not null,
    record json not null,
    landing_file varchar not null,
    loaded_at timestamptz not null
);
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
    rejected_at timestamptz not null
);
-- one row per night: a run of night N starts from the watermark of the latest night
-- before N, so running night N again asks for exactly what it asked the first time
create table if not exists ops.watermarks (
    platform varchar not null, account varchar not null, endpoint varchar not null,
    until timestamptz not null,   -- the data interval end of the run that reached it
    since_id varchar not null, run_id varchar, updated_at timestamptz not null
);
"""

_MALFORMED_FILE = re.compile(r'in file "([^"]+)"')


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL)


@dataclass
class LoadReport:
    manifests: int = 0
    files: int = 0
    records_loaded: int = 0
    records_duplicate: int = 0
    records_rejected: int = 0
    pages_rejected: int = 0
    users_loaded: int = 0
    incomplete_runs: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.files} new page(s) from {self.manifests} run(s): "
            f"{self.records_loaded} record(s) loaded, {self.records_duplicate} duplicate(s) "
            f"skipped, {self.records_rejected} record(s) and {self.pages_rejected} page(s) "
            f"rejected, {self.users_loaded} user(s) loaded"
        )


@dataclass(frozen=True)
class _PendingPage:
    url: str
    sha256: str
    platform: str
    account: str
    endpoint: str
    run_id: str


def _pending(
    con: duckdb.DuckDBPyConnection, landing: LandingZone
) -> tuple[list[tuple[str, str, Manifest]], list[_PendingPage]]:
    """Manifests not loaded yet (or rewritten by a retry), and their pages not loaded yet."""
    loaded_manifests = set(con.execute("select manifest, manifest_sha256 from ops.extract_runs").fetchall())
    loaded_pages = set(con.execute("select landing_file, sha256 from ops.loaded_files").fetchall())
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
                        page_url, page.sha256, manifest.platform, manifest.account,
                        page.endpoint, manifest.run_id,
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
    con.execute("create or replace temp table _page_rejects (url varchar, reason varchar, body varchar)")
    remaining = [page.url for page in pages]
    while remaining:
        try:
            con.execute(
                "create or replace temp table _pages as select filename as url, json as page "
                "from read_json_objects(?, format = 'unstructured', filename = true)",
                [remaining],
            )
            return
        except Exception as exc:  # duckdb raises InvalidInputException or IOException
            match = _MALFORMED_FILE.search(str(exc))
            broken = match.group(1) if match else None
            if broken in remaining:
                message = str(exc).split("\n")[0].strip()
            else:
                broken = _first_unreadable(con, remaining)
                if broken is None:
                    raise
                message = _read_error(con, broken)
            body = landing.read(broken).decode("utf-8", errors="replace")
            con.execute("insert into _page_rejects values (?, ?, ?)", [broken, message, body])
            remaining.remove(broken)
    con.execute("create or replace temp table _pages (url varchar, page json)")


def _read_error(con: duckdb.DuckDBPyConnection, url: str) -> str | None:
    try:
        con.execute("select 1 from read_json_objects(?, format = 'unstructured')", [url])
        return None
    except Exception as exc:
        return str(exc).split("\n")[0]


def _first_unreadable(con: duckdb.DuckDBPyConnection, urls: list[str]) -> str | None:
    return next((url for url in urls if _read_error(con, url) is not None), None)


_X_LOAD_SQL = """
create or replace temp table _x_page_checks as
select url,
    case
        when json_type(page) <> 'OBJECT' then 'page is not a JSON object'
        when (page->'data') is not null and json_type(page->'data') <> 'ARRAY'
            then 'page.data is not an array'
        when (page->'data') is null and (page->'meta') is null and (page->'errors') is null
            then 'not an X API v2 page: no data, meta or errors'
    end as reason
from _pages;

create or replace temp table _x_records as
with usable_pages as (
    select p.url, p.page
    from _pages p join _x_page_checks c using (url)
    where c.reason is null
),
data_records as (
    select url, 'data[' || (i - 1) || ']' as record_path, record, 0 as section, i
    from (
        select url,
            unnest(cast(page->'data' as json[])) as record,
            generate_subscripts(cast(page->'data' as json[]), 1) as i
        from usable_pages where json_type(page->'data') = 'ARRAY'
    )
),
included_posts as (
    -- the posts a page refers to (parents, quoted posts): part of the conversation too
    select url, 'includes.tweets[' || (i - 1) || ']' as record_path, record, 1 as section, i
    from (
        select url,
            unnest(cast(page->'includes'->'tweets' as json[])) as record,
            generate_subscripts(cast(page->'includes'->'tweets' as json[]), 1) as i
        from usable_pages where json_type(page->'includes'->'tweets') = 'ARRAY'
    )
),
all_records as (
    select * from data_records union all select * from included_posts
)
select url, record_path, record, section, i,
    record->>'id' as id,
    case
        when json_type(record) <> 'OBJECT' then 'record is not a JSON object'
        when (record->>'id') is null then 'missing id'
        when not regexp_full_match(record->>'id', '[0-9]+') then 'id is not numeric'
        when (record->>'author_id') is null then 'missing author_id'
        when (record->>'created_at') is null then 'missing created_at'
        when try_cast(record->>'created_at' as timestamptz) is null
            then 'created_at is not a timestamp: ' || (record->>'created_at')
        when (record->>'text') is null then 'missing text'
    end as reason
from all_records;

create or replace temp table _x_new_posts as
with valid as (
    select * from _x_records where reason is null
),
first_in_batch as (
    select * from valid
    qualify row_number() over (partition by id order by url, section, i) = 1
)
select f.* from first_in_batch f
anti join raw.x_posts existing on existing.id = f.id;

insert into raw.x_posts
select n.id, n.record, p.account, n.url, now()
from _x_new_posts n join _pending_pages p on p.url = n.url;

create or replace temp table _x_users as
select url, 'includes.users[' || (i - 1) || ']' as record_path, record, i,
    record->>'id' as id,
    case
        when json_type(record) <> 'OBJECT' then 'user is not a JSON object'
        when (record->>'id') is null then 'user without id'
        when (record->>'username') is null then 'user without username'
    end as reason
from (
    select p.url,
        unnest(cast(p.page->'includes'->'users' as json[])) as record,
        generate_subscripts(cast(p.page->'includes'->'users' as json[]), 1) as i
    from _pages p join _x_page_checks c using (url)
    where c.reason is null and json_type(p.page->'includes'->'users') = 'ARRAY'
);

insert into raw.x_users
select id, record, url, now() from (
    select * from _x_users where reason is null
    qualify row_number() over (partition by id order by url, i) = 1
) u
anti join raw.x_users existing on existing.id = u.id;

insert into ops.rejects
select r.url, r.record_path, p.platform, p.account, r.reason, r.record::varchar, now()
from (
    select url, record_path, reason, record from _x_records where reason is not null
    union all
    select url, record_path, reason, record from _x_users where reason is not null
) r join _pending_pages p on p.url = r.url;

insert into ops.rejects
select c.url, null, p.platform, p.account, c.reason, pg.page::varchar, now()
from _x_page_checks c join _pages pg using (url) join _pending_pages p on p.url = c.url
where c.reason is not null;
"""

_FILE_COUNTS_SQL = """
delete from ops.loaded_files where landing_file in (select url from _pending_pages);
insert into ops.loaded_files
select p.url, p.sha256, p.platform, p.account, p.endpoint, p.run_id,
    coalesce(r.received, 0), coalesce(n.loaded, 0),
    coalesce(r.valid, 0) - coalesce(n.loaded, 0), coalesce(r.rejected, 0) + coalesce(pr.pages, 0),
    now()
from _pending_pages p
left join (
    select url, count(*) as received, count(*) filter (reason is null) as valid,
        count(*) filter (reason is not null) as rejected
    from _x_records group by url
) r on r.url = p.url
left join (select url, count(*) as loaded from _x_new_posts group by url) n on n.url = p.url
left join (
    select url, count(*) as pages from (
        select url from _page_rejects union all
        select url from _x_page_checks where reason is not null
    ) group by url
) pr on pr.url = p.url
"""


def _record_runs(
    con: duckdb.DuckDBPyConnection, manifests: list[tuple[str, str, Manifest]]
) -> None:
    for url, digest, manifest in manifests:
        # a re-run of the same night rewrote this manifest: its row is replaced, not added
        con.execute("delete from ops.extract_runs where manifest = ?", [url])
        con.execute(
            "insert into ops.extract_runs "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                url, digest, manifest.platform, manifest.account, manifest.source,
                manifest.run_id, manifest.dt, manifest.until, manifest.started_at,
                manifest.finished_at,
                manifest.complete, manifest.error, manifest.requests, len(manifest.pages),
                manifest.ceilings,
            ],
        )
        if not manifest.complete:
            continue
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


def load_landing(con: duckdb.DuckDBPyConnection, landing: LandingZone) -> LoadReport:
    """Load every landed page not loaded before; one transaction."""
    ensure_schema(con)
    if not landing.is_local:
        con.register_filesystem(landing.fs)
    manifests, pages = _pending(con, landing)
    report = LoadReport(manifests=len(manifests), files=len(pages))
    report.incomplete_runs = [url for url, _, m in manifests if not m.complete]
    unsupported = sorted({p.platform for p in pages} - {"x"})
    if unsupported:
        raise ValueError(f"no loader for landed platform(s) {unsupported}")
    # manifests must be read in order so the newest complete run sets the watermark
    manifests.sort(key=lambda item: (item[2].finished_at or "", item[0]))
    con.execute(
        "create or replace temp table _pending_pages (url varchar, sha256 varchar, "
        "platform varchar, account varchar, endpoint varchar, run_id varchar)"
    )
    if pages:
        con.executemany(
            "insert into _pending_pages values (?, ?, ?, ?, ?, ?)",
            [(p.url, p.sha256, p.platform, p.account, p.endpoint, p.run_id) for p in pages],
        )
    # Parsing happens before the transaction: a parse error would abort it.
    _read_pages(con, landing, pages)
    con.execute("begin transaction")
    try:
        # a page rewritten by a re-run replaces the rejects its earlier version left
        con.execute(
            "delete from ops.rejects where landing_file in (select url from _pending_pages)"
        )
        con.execute(
            "insert into ops.rejects select r.url, null, p.platform, p.account, r.reason, "
            "r.body, now() from _page_rejects r join _pending_pages p on p.url = r.url"
        )
        users_before = _count(con, "raw.x_users")
        con.execute(_X_LOAD_SQL)
        con.execute(_FILE_COUNTS_SQL)
        _record_runs(con, manifests)
        totals = con.execute(
            "select coalesce(sum(records_loaded), 0), coalesce(sum(records_duplicate), 0), "
            "coalesce(sum(records_rejected), 0) from ops.loaded_files "
            "where landing_file in (select url from _pending_pages)"
        ).fetchone()
        report.records_loaded, report.records_duplicate, rejected = (int(v) for v in totals)
        report.pages_rejected = _count(con, "_page_rejects") + _count(
            con, "_x_page_checks where reason is not null"
        )
        report.records_rejected = rejected - report.pages_rejected
        report.users_loaded = _count(con, "raw.x_users") - users_before
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return report


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return int(con.execute(f"select count(*) from {relation}").fetchone()[0])
