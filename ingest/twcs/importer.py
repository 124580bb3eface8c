"""Import one TWCS-format CSV file into raw.twcs_messages; refused rows into ops.rejects.

DuckDB reads the file (read_csv, every column as text, strict quoting, its rejects kept)
into a temp table, so the import streams at DuckDB's speed and spills to disk under its
memory limit instead of holding the file in Python. The checks are SQL over that table.
Rows, rejects and the ops.imports record are written in one transaction.
"""

from __future__ import annotations

import itertools
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ingest.twcs.csv_file import (
    TWCS_COLUMNS,
    TwcsLayout,
    physical_lines,
    read_layout,
    rewrite_as_read,
    scan,
)
from ingest.twcs.progress import Progress

if TYPE_CHECKING:
    import duckdb

PLATFORM = "twcs"
CREATED_AT_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # Tue Oct 31 22:10:47 +0000 2017

# DuckDB spills to disk past this, so the import's memory does not grow with the file
MEMORY_LIMIT = "512MB"
_PAGE = 50_000  # rejected rows handled at a time, so memory is flat however many there are

_WHOLE_NUMBER = r"[0-9]+(\.0+)?"  # "123" or, written by a spreadsheet, "123.0"

_CHECK_SQL = f"""
create or replace temp table _twcs_checked as
with fields as (
    select
        rowid as row_index,
        nullif(tweet_id, '') as tweet_id,
        nullif(author_id, '') as author_id,
        nullif(inbound, '') as inbound,
        nullif(created_at, '') as created_at,
        text,
        nullif(response_tweet_id, '') as response_tweet_id,
        nullif(in_response_to_tweet_id, '') as in_response_to_tweet_id
    from _twcs_rows
),
checked as (
    select
        *,
        case
            when tweet_id is null then 'missing tweet_id'
            when not regexp_full_match(tweet_id, '{_WHOLE_NUMBER}')
                then 'tweet_id is not a whole number: ' || tweet_id
            when author_id is null then 'missing author_id'
            when inbound is null then 'missing inbound'
            when lower(inbound) not in ('true', 'false')
                then 'inbound is not True or False: ' || inbound
            when created_at is null then 'missing created_at'
            when try_strptime(created_at, '{CREATED_AT_FORMAT}') is null
                then 'created_at is not a time like "Tue Oct 31 22:10:47 +0000 2017": '
                    || created_at
            when in_response_to_tweet_id is not null
                and not regexp_full_match(in_response_to_tweet_id, '{_WHOLE_NUMBER}')
                then 'in_response_to_tweet_id is not a whole number: '
                    || in_response_to_tweet_id
        end as reason
    from fields
)
select
    row_index,
    reason,
    -- ids are keys: "123.0" and "123" are the same tweet
    regexp_replace(tweet_id, '\\.0+$', '') as tweet_id,
    case
        when regexp_full_match(author_id, '[0-9]+\\.0+')
            then regexp_replace(author_id, '\\.0+$', '')
        else author_id
    end as author_id,
    inbound,
    created_at,
    text,
    response_tweet_id,
    regexp_replace(in_response_to_tweet_id, '\\.0+$', '') as in_response_to_tweet_id,
    case when reason is not null then to_json({{
        'tweet_id': tweet_id, 'author_id': author_id, 'inbound': inbound,
        'created_at': created_at, 'text': text, 'response_tweet_id': response_tweet_id,
        'in_response_to_tweet_id': in_response_to_tweet_id
    }})::varchar end as record
from checked
"""

_PARSE_REJECTS_SQL = """
create or replace temp table _twcs_parse_rejects as
select
    line as record_number,
    'malformed CSV row (' || lower(replace(arg_min(error_type, column_idx), '_', ' '))
        || '): ' || arg_min(error_message, column_idx) as reason,
    arg_min(csv_line, column_idx) as record
from _twcs_reject_errors
group by line
"""

# a file imported again after an edit (another sha256) replaces the rejects it left
_DELETE_REJECTS_SQL = "delete from ops.rejects where platform = 'twcs' and landing_file = $file"

_INSERT_REJECTS_SQL = """
insert into ops.rejects (landing_file, record_path, platform, account, reason, record, rejected_at)
select $file, 'line ' || line, 'twcs', null, reason, record, now()
from (
    select l.line, p.reason, p.record
    from _twcs_parse_rejects as p
    join _twcs_reject_lines as l on l.kind = 'record' and l.position = p.record_number
    union all
    select l.line, c.reason, c.record
    from _twcs_checked as c
    join _twcs_reject_lines as l on l.kind = 'row' and l.position = c.row_index
    where c.reason is not null
)
order by line
"""

_INSERT_SQL = """
-- the first row of a tweet id in the file, and only when no earlier import had it
insert into raw.twcs_messages
select
    tweet_id, author_id, inbound, created_at, text, response_tweet_id,
    in_response_to_tweet_id, $file, now(), $load_id
from (
    select * from _twcs_checked
    where reason is null
    qualify row_number() over (partition by tweet_id order by row_index) = 1
) as first_in_file
anti join raw.twcs_messages as loaded using (tweet_id)
"""

_TEMP_TABLES = (
    "_twcs_rows",
    "_twcs_checked",
    "_twcs_parse_rejects",
    "_twcs_reject_lines",
    "_twcs_reject_errors",
    "_twcs_reject_scans",
)


@dataclass
class TwcsImportReport:
    file: str
    sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    already_imported_at: datetime | None = None
    seconds: float = 0.0

    def describe(self) -> str:
        if self.already_imported_at is not None:
            return (
                f"{self.file}: already imported at {self.already_imported_at:%Y-%m-%d %H:%M} "
                "UTC (same sha256); nothing changed"
            )
        return (
            f"{self.file}: {self.rows_read:,} row(s) read, {self.rows_loaded:,} loaded, "
            f"{self.rows_duplicate:,} duplicate(s) skipped, {self.rows_rejected:,} rejected "
            f"(see ops.rejects) in {self.seconds:.1f} s"
        )


def _read_csv_sql(layout: TwcsLayout) -> str:
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in layout.columns)
    return (
        "create or replace temp table _twcs_rows as select "
        + ", ".join(TWCS_COLUMNS)
        + " from read_csv($path, header = true, auto_detect = false, "
        f"columns = {{{columns}}}, delim = ',', quote = '\"', escape = '\"', "
        "strict_mode = true, encoding = 'utf-8', store_rejects = true, "
        "rejects_table = '_twcs_reject_errors', rejects_scan = '_twcs_reject_scans', "
        "rejects_limit = 0)"
    )


def _previous_import(con: duckdb.DuckDBPyConnection, sha256: str) -> datetime | None:
    row = con.execute(
        "select max(finished_at) from ops.imports where format = ? and sha256 = ?",
        [PLATFORM, sha256],
    ).fetchone()
    return row[0] if row else None


def _stage(con: duckdb.DuckDBPyConnection, path: Path, layout: TwcsLayout) -> None:
    con.execute("drop table if exists _twcs_reject_errors")
    con.execute("drop table if exists _twcs_reject_scans")
    con.execute(_read_csv_sql(layout), {"path": str(path)})
    con.execute(_PARSE_REJECTS_SQL)


def _ordered(con: duckdb.DuckDBPyConnection, query: str) -> Iterator[tuple]:
    """Rows of `query` (first column ascending, > $after, limit $page) a page at a time."""
    after = -1
    while True:
        page = con.execute(query, {"after": after, "page": _PAGE}).fetchall()
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1][0]


def _locate_rejects(
    con: duckdb.DuckDBPyConnection, path: Path, layout: TwcsLayout, progress: Progress
) -> int:
    """Fills _twcs_reject_lines (kind, position, line); returns how many rows were refused."""
    con.execute(
        "create or replace temp table _twcs_reject_lines "
        "(kind varchar, position bigint, line bigint)"
    )
    [(refused,)] = con.execute(
        "select (select count(*) from _twcs_parse_rejects) "
        "+ (select count(*) from _twcs_checked where reason is not null)"
    ).fetchall()
    if not refused:
        return 0
    progress.stage(f"finding the lines of {refused:,} rejected row(s)")
    records = (
        record
        for (record,) in _ordered(
            con,
            "select record_number from _twcs_parse_rejects where record_number > $after "
            "order by record_number limit $page",
        )
    )
    rows = _ordered(
        con,
        "select c.row_index, r.tweet_id from _twcs_checked as c "
        "join _twcs_rows as r on r.rowid = c.row_index "
        "where c.reason is not null and c.row_index > $after order by c.row_index limit $page",
    )
    placed = physical_lines(path, layout, records, rows, on_progress=progress.update)
    while batch := list(itertools.islice(placed, _PAGE)):
        kinds, positions, lines = zip(*batch, strict=True)
        con.execute(
            "insert into _twcs_reject_lines select unnest($kinds::varchar[]), "
            "unnest($positions::bigint[]), unnest($lines::bigint[])",
            {"kinds": list(kinds), "positions": list(positions), "lines": list(lines)},
        )
    return refused


def import_twcs(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    progress_stream: TextIO | None = None,
    memory_limit: str = MEMORY_LIMIT,
) -> TwcsImportReport:
    """Import one TWCS CSV file; importing a file already imported (same sha256) is a no-op.

    A row that cannot be read, or whose tweet_id, author_id, inbound, created_at or
    in_response_to_tweet_id is missing or malformed, goes to ops.rejects with its line in
    the file (`record_path` 'line N') and the reason; nothing about it is guessed.
    """
    from ingest.load import ensure_schema

    started = time.monotonic()
    started_at = datetime.now(UTC)
    path = Path(path).resolve()
    progress = Progress(progress_stream, f"twcs import {path.name}")
    layout = read_layout(path)
    ensure_schema(con)

    progress.stage("hashing")
    scanned = scan(path, on_progress=progress.update)
    report = TwcsImportReport(str(path), scanned.sha256)
    report.already_imported_at = _previous_import(con, report.sha256)
    if report.already_imported_at is not None:
        progress.done("already imported; nothing changed")
        return report

    if not re.fullmatch(r"[0-9.]+ ?[KMGT]i?B", memory_limit):
        raise ValueError(f"memory_limit {memory_limit!r} is not like '512MB' or '2GiB'")
    [(previous_limit,)] = con.execute("select current_setting('memory_limit')").fetchall()
    con.execute(f"set memory_limit = '{memory_limit}'")
    try:
        with tempfile.TemporaryDirectory(prefix="siloscope-twcs-") as folder:
            readable = path
            if scanned.mixed_line_endings:
                progress.stage("rewriting: the file mixes line endings")
                readable = Path(folder) / "rewritten.csv"
                rewrite_as_read(path, readable, on_progress=progress.update)
            _import(con, path, readable, layout, report, started_at, progress)
    finally:
        for table in _TEMP_TABLES:
            con.execute(f"drop table if exists {table}")
        con.execute(f"set memory_limit = '{previous_limit}'")
    report.seconds = time.monotonic() - started
    progress.done(report.describe())
    return report


def _import(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    readable: Path,
    layout: TwcsLayout,
    report: TwcsImportReport,
    started_at: datetime,
    progress: Progress,
) -> None:
    progress.stage("reading")
    with progress.watching(con):
        _stage(con, readable, layout)  # the same records as `path`, in the same places
    progress.stage("checking")
    with progress.watching(con):
        con.execute(_CHECK_SQL)
    [(parsed, parse_rejected)] = con.execute(
        "select (select count(*) from _twcs_rows), (select count(*) from _twcs_parse_rejects)"
    ).fetchall()
    report.rows_read = parsed + parse_rejected
    report.rows_rejected = _locate_rejects(con, path, layout, progress)

    progress.stage("writing")
    con.execute("begin transaction")
    try:
        with progress.watching(con):
            con.execute(_DELETE_REJECTS_SQL, {"file": str(path)})
            con.execute(_INSERT_REJECTS_SQL, {"file": str(path)})
            [(load_id,)] = con.execute("select nextval('ops.load_ids')").fetchall()
            [(report.rows_loaded,)] = con.execute(
                _INSERT_SQL, {"file": str(path), "load_id": load_id}
            ).fetchall()
        report.rows_duplicate = report.rows_read - report.rows_rejected - report.rows_loaded
        con.execute(
            "insert into ops.imports values (?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                PLATFORM,
                str(path),
                report.sha256,
                report.rows_read,
                report.rows_loaded,
                report.rows_duplicate,
                report.rows_rejected,
                started_at,
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def org_account_messages(con: duckdb.DuckDBPyConnection, handles: list[str]) -> dict[str, int]:
    """Messages in raw.twcs_messages by each handle (normalized, as the config lists them)."""
    if not handles:
        return {}
    counts = dict(
        con.execute(
            "select lower(author_id), count(*) from raw.twcs_messages "
            "where lower(author_id) in (select unnest(?::varchar[])) group by all",
            [handles],
        ).fetchall()
    )
    return {handle: counts.get(handle, 0) for handle in handles}
