"""The X API v2 page format: what the simulated and the live X sources land.

A page is one response body: {"data": [post...], "includes": {"users": [...],
"tweets": [...]}, "meta": {...}}, or {"meta": {"result_count": 0}} when nothing is new.
Posts go to raw.x_posts (including the posts a page refers to, from includes.tweets),
users to raw.x_users. LOAD_SQL follows the contract in ingest/formats/__init__.py.
"""

PLATFORM = "x"

SCHEMA_SQL = """
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
"""

# Message records on a landed page, counted apart from LOAD_SQL (ingest/reconcile.py):
# the posts of data and includes.tweets, each one LOAD_SQL must load, reject or skip.
FETCHED_RECORDS_SQL = """
select url,
    coalesce(json_array_length(page->'data'), 0)
        + coalesce(json_array_length(page->'includes'->'tweets'), 0) as records
from _landed_pages
"""

LOAD_SQL = """
create or replace temp table _page_checks as
select url,
    case
        when json_type(page) <> 'OBJECT' then 'page is not a JSON object'
        when (page->'data') is not null and json_type(page->'data') <> 'ARRAY'
            then 'page.data is not an array'
        when (page->'data') is null and (page->'meta') is null and (page->'errors') is null
            then 'not an X API v2 page: no data, meta or errors'
    end as reason
from _platform_pages;

create or replace temp table _records as
with usable_pages as (
    select p.url, p.page
    from _platform_pages p join _page_checks c using (url)
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

create or replace temp table _new_records as
with valid as (
    select * from _records where reason is null
),
first_in_batch as (
    select * from valid
    qualify row_number() over (partition by id order by url, section, i) = 1
)
select f.* from first_in_batch f
anti join raw.x_posts existing on existing.id = f.id;

insert into raw.x_posts
select n.id, n.record, p.account, n.url, now()
from _new_records n join _pending_pages p on p.url = n.url;

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
    from _platform_pages p join _page_checks c using (url)
    where c.reason is null and json_type(p.page->'includes'->'users') = 'ARRAY'
);

insert into raw.x_users
select id, record, url, now() from (
    select * from _x_users where reason is null
    qualify row_number() over (partition by id order by url, i) = 1
) u
anti join raw.x_users existing on existing.id = u.id;

create or replace temp table _auxiliary_rejects as
select url, record_path, reason, record from _x_users where reason is not null;
"""
