"""What X bills: every post and user object a response returns, each once per UTC day.

X's pay-per-use price list bills reads per resource returned, and a resource returned
again on the same UTC day is not billed again. The same post served by the mentions
timeline and by a thread search in one night is one read; the same user on every page of
a night is one read; the same post the next day is a new read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any


class DailyReads:
    """The reads of one caller (one extract run) as X bills them: once per resource a day.

    A run sees only its own requests: X bills the resources two accounts' runs both read
    on one day once, so the sum over accounts can exceed the bill by that overlap.
    """

    def __init__(self) -> None:
        self._seen: set[tuple[date, str, str]] = set()

    def bill(self, kind: str, ids: Iterable[str], at: datetime) -> int:
        """How many of these resources (`kind` "post" or "user") are billed now."""
        day = at.astimezone(UTC).date()
        billed = 0
        for resource_id in ids:
            key = (day, kind, str(resource_id))
            if key not in self._seen:
                self._seen.add(key)
                billed += 1
        return billed


# The night's bill across runs: a run sees only its own reads, but X bills the resources
# two accounts' runs both read on one day once. After each load, the pages of X runs not
# billed yet are read again and each (day, kind, id) is charged to the first run that read
# it (each run's user lookup included): ops.x_billed_reads then holds exactly what X
# bills, one row per billed read. A run's
# day is its clock's: the simulator reads a night as it ends (`until`); a live run when it
# started.
SCHEMA_SQL = """
create table if not exists ops.x_billed_reads (
    day date not null,          -- the UTC day X bills the read on
    kind varchar not null,      -- post | user
    id varchar not null,
    manifest varchar not null,  -- the extract run charged with it (the first to read it)
    endpoint varchar not null
);
create table if not exists ops.x_billed_runs (
    manifest varchar not null, manifest_sha256 varchar not null
);
"""

_ENDPOINT_ORDER = "case f.endpoint when 'mentions' then 1 when 'tweets' then 2 else 3 end"

BILL_SQL = f"""
create or replace temp table _unbilled_pages as
select f.landing_file as url, f.endpoint, r.manifest, r.manifest_sha256, r.account,
    r.started_at, {_ENDPOINT_ORDER} as endpoint_order,
    cast(timezone('UTC', case when r.source = 'simulated' then r.until
        else coalesce(r.started_at, r.until) end) as date) as day
from ops.extract_runs r
join ops.loaded_files f
    on f.platform = r.platform and f.account = r.account and f.run_id = r.run_id
where r.platform = 'x'
    -- a page that is not JSON names no resource to count (the loader kept it in rejects)
    and f.landing_file not in (
        select landing_file from ops.rejects where record_path is null
    )
    and not exists (
        select 1 from ops.x_billed_runs b
        where b.manifest = r.manifest and b.manifest_sha256 = r.manifest_sha256
    );
"""

_READS_SQL = """
create or replace temp table _page_reads as
with pages as (
    select u.*, j.json as page
    from read_json_objects(?, format = 'unstructured', filename = true) j
    join _unbilled_pages u on u.url = j.filename
),
resources as (
    select pages.*, 'post' as kind, unnest(json_extract_string(page, '$.data[*].id')) as id
    from pages
    union all
    select pages.*, 'post', unnest(json_extract_string(page, '$.includes.tweets[*].id'))
    from pages
    union all
    select pages.*, 'user', unnest(json_extract_string(page, '$.includes.users[*].id'))
    from pages
)
select day, kind, id, manifest, endpoint, started_at, account, endpoint_order, url
from resources where id is not null
"""

# Each run starts with a user lookup of its account: a user object, billed like any other
# (the account's user id from raw.x_users when stored; its handle stands in when not).
_LOOKUPS_SQL = """
insert into _page_reads
select distinct u.day, 'user', coalesce(known.id, '@' || lower(u.account)), u.manifest,
    'user lookup', u.started_at, u.account, 0, ''
from _unbilled_pages u
join ops.extract_endpoints e
    on e.manifest = u.manifest and e.endpoint = 'user lookup' and e.billable_reads > 0
left join (
    select lower(record->>'username') as username, any_value(id) as id
    from raw.x_users group by all
) known on known.username = lower(u.account)
"""

_CHARGE_SQL = """
insert into ops.x_billed_reads
select day, kind, id, manifest, endpoint from _page_reads r
where not exists (
    select 1 from ops.x_billed_reads b where b.day = r.day and b.kind = r.kind and b.id = r.id
)
qualify row_number() over (
    partition by day, kind, id order by started_at, account, endpoint_order, url
) = 1;
"""


def bill_landed_runs(con: Any) -> int:
    """Charge the reads of X runs loaded since the last bill; how many were billed."""
    con.execute(SCHEMA_SQL)
    con.execute("begin transaction")
    try:
        con.execute(BILL_SQL)
        urls = [url for (url,) in con.execute("select url from _unbilled_pages").fetchall()]
        before = con.execute("select count(*) from ops.x_billed_reads").fetchone()[0]
        if urls:
            con.execute(_READS_SQL, [urls])
            con.execute(_LOOKUPS_SQL)
            con.execute(_CHARGE_SQL)
        con.execute(
            "insert into ops.x_billed_runs select distinct manifest, manifest_sha256 "
            "from _unbilled_pages"
        )
        billed = con.execute("select count(*) from ops.x_billed_reads").fetchone()[0] - before
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return int(billed)
