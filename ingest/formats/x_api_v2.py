"""The X API v2 page format: what the simulated and the live X sources land.

A page is one response body: {"data": [post...], "includes": {"users": [...],
"tweets": [...]}, "meta": {...}}, or {"meta": {"result_count": 0}} when nothing is new.
Posts go to raw.x_posts (including the posts a page refers to, from includes.tweets),
users to raw.x_users. Its SQL follows the contract in ingest/formats/__init__.py.
"""

from datetime import UTC, datetime

PLATFORM = "x"
# the message table INSERT_SQL fills, and the key its rows and _records share
MESSAGES_TABLE = "raw.x_posts"
MESSAGE_KEY = ("id",)

# X ids are snowflakes: milliseconds since this epoch, shifted left over a sequence part.
SNOWFLAKE_EPOCH_MS = 1288834974657
SNOWFLAKE_SEQUENCE_BITS = 22


def snowflake_time(post_id: str | int) -> datetime:
    """When an X post (or conversation root) with this id was created."""
    milliseconds = (int(post_id) >> SNOWFLAKE_SEQUENCE_BITS) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


# Every field of a post the loader checks or staging reads, parsed in one pass.
_POST_FIELDS = """{
    "id": "VARCHAR", "conversation_id": "VARCHAR", "author_id": "VARCHAR",
    "in_reply_to_user_id": "VARCHAR", "created_at": "VARCHAR", "text": "VARCHAR",
    "lang": "VARCHAR", "referenced_tweets": [{"type": "VARCHAR", "id": "VARCHAR"}]
}"""

SCHEMA_SQL = f"""
create table if not exists raw.x_posts (
    id varchar not null,          -- the post id, as the API gives it
    record json not null,         -- the post object exactly as received
    account varchar not null,     -- the org account whose extract landed it first
    landing_file varchar not null,
    loaded_at timestamptz not null,
    load_id bigint,               -- the load that inserted it (ops.load_ids)
    -- The fields staging reads, parsed on the way in: the loader parses every record to
    -- check it anyway, so stg_x__posts is a view that parses nothing, and a build reading
    -- one night skips the other nights' row groups by created_at.
    conversation_id varchar,
    author_id varchar,
    created_at timestamptz,
    text varchar,
    lang varchar,
    in_reply_to_user_id varchar,
    referenced_tweets struct(type varchar, id varchar)[]
);
create table if not exists raw.x_users (
    id varchar not null,
    record json not null,
    landing_file varchar not null,
    loaded_at timestamptz not null,
    load_id bigint
);
-- databases created before load ids and parsed fields; every loaded post has a created_at,
-- so only posts loaded before it existed are parsed here, once
alter table raw.x_posts add column if not exists load_id bigint;
alter table raw.x_users add column if not exists load_id bigint;
alter table raw.x_posts add column if not exists conversation_id varchar;
alter table raw.x_posts add column if not exists author_id varchar;
alter table raw.x_posts add column if not exists created_at timestamptz;
alter table raw.x_posts add column if not exists text varchar;
alter table raw.x_posts add column if not exists lang varchar;
alter table raw.x_posts add column if not exists in_reply_to_user_id varchar;
alter table raw.x_posts add column if not exists referenced_tweets
    struct(type varchar, id varchar)[];
update raw.x_posts set
    conversation_id = parsed.post.conversation_id,
    author_id = parsed.post.author_id,
    created_at = parsed.post.created_at::timestamptz,
    text = parsed.post.text,
    lang = parsed.post.lang,
    in_reply_to_user_id = parsed.post.in_reply_to_user_id,
    referenced_tweets = parsed.post.referenced_tweets
from (
    select id, json_transform(record, '{_POST_FIELDS}') as post
    from raw.x_posts where created_at is null
) as parsed
where raw.x_posts.id = parsed.id;
"""

# Message records on a landed page, counted apart from RECORDS_SQL (ingest/reconcile.py):
# the posts of data and includes.tweets, each one the loader must load, reject or skip.
FETCHED_RECORDS_SQL = """
select url,
    coalesce(json_array_length(page->'data'), 0)
        + coalesce(json_array_length(page->'includes'->'tweets'), 0) as records
from _landed_pages
"""

# Each page is parsed once, into the parts the load reads (json_transform); every
# json_extract or ->> on the page text would parse the whole page again, and parsing is
# most of what loading costs. Only a page without a data array is looked at again, to
# name exactly what is wrong with it. Records are parsed once each the same way.
_PAGE_PARTS = '{"data": "JSON[]", "includes": {"tweets": "JSON[]", "users": "JSON[]"}}'
_USER_FIELDS = '{"id": "VARCHAR", "username": "VARCHAR"}'

RECORDS_SQL = f"""
create or replace temp table _page_parts as
select url, parts.data, parts.includes.tweets, parts.includes.users,
    case
        when parts.data is not null then null
        when json_type(page) <> 'OBJECT' then 'page is not a JSON object'
        when (page->'data') is not null and json_type(page->'data') <> 'ARRAY'
            then 'page.data is not an array'
        when (page->'data') is null and (page->'meta') is null and (page->'errors') is null
            then 'not an X API v2 page: no data, meta or errors'
    end as reason
from (
    select url, page, json_transform(page, '{_PAGE_PARTS}') as parts from _platform_pages
);

create or replace temp table _page_checks as
select url, reason from _page_parts;

create or replace temp table _records as
with data_records as (
    select url, 'data[' || (i - 1) || ']' as record_path, record, 0 as section, i
    from (
        select url, unnest(data) as record, generate_subscripts(data, 1) as i
        from _page_parts where reason is null and data is not null
    )
),
included_posts as (
    -- the posts a page refers to (parents, quoted posts): part of the conversation too
    select url, 'includes.tweets[' || (i - 1) || ']' as record_path, record, 1 as section, i
    from (
        select url, unnest(tweets) as record, generate_subscripts(tweets, 1) as i
        from _page_parts where reason is null and tweets is not null
    )
),
all_records as (
    select *, json_transform(record, '{_POST_FIELDS}') as field
    from (select * from data_records union all select * from included_posts)
)
select url, record_path, record, section, i, field,
    field.id as id,
    case
        when field.id is null and json_type(record) <> 'OBJECT'
            then 'record is not a JSON object'
        when field.id is null then 'missing id'
        when not regexp_full_match(field.id, '[0-9]+') then 'id is not numeric'
        when field.author_id is null then 'missing author_id'
        when field.created_at is null then 'missing created_at'
        when try_cast(field.created_at as timestamptz) is null
            then 'created_at is not a timestamp: ' || field.created_at
        -- would fail validation's "not in the future" on every later night; 5 minutes
        -- forgive a source's clock running a little ahead
        when try_cast(field.created_at as timestamptz) > now() + interval 5 minutes
            then 'created_at is in the future: ' || field.created_at
        when field.text is null then 'missing text'
        -- every message belongs to a conversation (validation: conversation_id not null)
        when field.conversation_id is null then 'missing conversation_id'
    end as reason
from all_records;

"""

# the order in which the first copy of a key in one batch is chosen (the one loaded)
BATCH_ORDER = "url, section, i"

INSERT_SQL = f"""
insert into raw.x_posts by name
select
    n.id, n.record, p.account, n.url as landing_file, now() as loaded_at, l.load_id,
    n.field.conversation_id, n.field.author_id, n.field.created_at::timestamptz as created_at,
    n.field.text, n.field.lang, n.field.in_reply_to_user_id, n.field.referenced_tweets
from _new_records n join _pending_pages p on p.url = n.url cross join _load l;

create or replace temp table _x_users as
select url, 'includes.users[' || (i - 1) || ']' as record_path, record, i,
    field.id as id,
    case
        when field.id is null and json_type(record) <> 'OBJECT' then 'user is not a JSON object'
        when field.id is null then 'user without id'
        when field.username is null then 'user without username'
    end as reason
from (
    select url, record, i, json_transform(record, '{_USER_FIELDS}') as field
    from (
        select url, unnest(users) as record, generate_subscripts(users, 1) as i
        from _page_parts where reason is null and users is not null
    )
);

drop table _page_parts;

insert into raw.x_users
select id, record, url, now(), (select load_id from _load) from (
    select * from _x_users where reason is null
    qualify row_number() over (partition by id order by url, i) = 1
) u
anti join raw.x_users existing on existing.id = u.id;

create or replace temp table _auxiliary_rejects as
select url, record_path, reason, record from _x_users where reason is not null;
"""
