"""The Mastodon page format: what the Mastodon source lands, one API answer per page.

A page is the JSON body of one of (docs.joinmastodon.org/methods, /entities)
    GET /api/v1/notifications?types[]=mention      [Notification, ...]  (each holds a status)
    GET /api/v1/accounts/:id/statuses               [Status, ...]
    GET /api/v1/statuses/:id/context                {"ancestors": [Status], "descendants": [Status]}

Every status becomes one row of raw.mastodon_statuses keyed by (instance, id): a status id
is the instance's own number (the same post seen from two instances has two ids), and its
`in_reply_to_id` is a number of the same instance, so a reply finds its parent within the
copy it came with. The instance is the one of the org account whose extract landed the
page (`acme@mastodon.social` -> mastodon.social). Staging keys messages on the status's
`uri`, the same everywhere. LOAD_SQL follows the contract in ingest/formats/__init__.py.
"""

PLATFORM = "mastodon"
# the message table INSERT_SQL fills, and the key its rows and _records share: a status id
# is numbered by its instance
MESSAGES_TABLE = "raw.mastodon_statuses"
MESSAGE_KEY = ("instance", "status_id")

SCHEMA_SQL = """
create table if not exists raw.mastodon_statuses (
    instance varchar not null,    -- whose numbering status_id is (the extract's instance)
    status_id varchar not null,
    uri varchar not null,         -- the status's ActivityPub id, the same on every instance
    record json not null,         -- the Status exactly as received
    account varchar not null,     -- the org address whose extract landed it
    landing_file varchar not null,
    loaded_at timestamptz not null,
    load_id bigint
);
"""

_PAGE_STATUSES = """
with elements as (
    select url, '[' || (i - 1) || ']' as path, element
    from (
        select url, unnest(cast(page as json[])) as element,
            generate_subscripts(cast(page as json[]), 1) as i
        from _pages_in where json_type(page) = 'ARRAY'
    )
    union all
    select url, key || '[' || (i - 1) || ']', element
    from (
        select url, key, unnest(cast(page->key as json[])) as element,
            generate_subscripts(cast(page->key as json[]), 1) as i
        from _pages_in, (values ('ancestors'), ('descendants')) as keys(key)
        where json_type(page) = 'OBJECT' and json_type(page->key) = 'ARRAY'
    )
),
items as (
    -- a notification carries its status; anything else on a page is a status itself
    select url,
        case when json_type(element->'type') = 'VARCHAR' and (element->>'uri') is null
            then path || '.status' else path end as record_path,
        case when json_type(element->'type') = 'VARCHAR' and (element->>'uri') is null
            then element->'status' else element end as status
    from elements
)
"""


def _page_statuses(pages: str) -> str:
    """CTEs ending in `items` (url, record_path, status) over table `pages` (url, page)."""
    return _PAGE_STATUSES.replace("_pages_in", pages)


FETCHED_RECORDS_SQL = f"""
{_page_statuses("_landed_pages")}
select p.url, count(i.url) as records
from _landed_pages as p
left join items as i using (url)
group by p.url
"""

RECORDS_SQL = f"""
create or replace temp table _page_checks as
select url,
    case
        when json_type(page) = 'ARRAY' then null
        when json_type(page) = 'OBJECT' and (json_type(page->'ancestors') = 'ARRAY'
            or json_type(page->'descendants') = 'ARRAY') then null
        when json_type(page) = 'OBJECT' and (page->>'error') is not null
            then 'Mastodon API error: ' || (page->>'error')
        else 'not a Mastodon list of statuses or notifications, or a status context'
    end as reason
from _platform_pages;

create or replace temp view _usable_pages as
select p.url, p.page from _platform_pages p join _page_checks c using (url) where c.reason is null;

create or replace temp table _records as
{_page_statuses("_usable_pages")}
select i.url, i.record_path, i.status as record,
    lower(split_part(p.account, '@', -1)) as instance,
    i.status->>'id' as status_id,
    case
        when coalesce(json_type(i.status), '') <> 'OBJECT'
            then 'notification without a status, or a status that is not a JSON object'
        when (i.status->>'id') is null then 'missing id'
        when not regexp_full_match(i.status->>'id', '[0-9]+') then 'id is not a number'
        when (i.status->>'uri') is null then 'missing uri'
        when (i.status->'account'->>'acct') is null then 'missing account.acct'
        when try_cast(i.status->>'created_at' as timestamptz) is null
            then 'created_at is not a timestamp: ' || coalesce(i.status->>'created_at', 'null')
        -- would fail validation's "not in the future" on every later night (5 minutes
        -- forgive a clock running ahead)
        when try_cast(i.status->>'created_at' as timestamptz) > now() + interval 5 minutes
            then 'created_at is in the future: ' || (i.status->>'created_at')
        when coalesce(json_type(i.status->'content'), '') <> 'VARCHAR' then 'missing content'
        when (i.status->>'in_reply_to_id') is not null
            and not regexp_full_match(i.status->>'in_reply_to_id', '[0-9]+')
            then 'in_reply_to_id is not a number: ' || (i.status->>'in_reply_to_id')
    end as reason
from items i join _pending_pages p using (url);

"""

# the order in which the first copy of a key in one batch is chosen (the one loaded)
BATCH_ORDER = "url, record_path"

INSERT_SQL = """
insert into raw.mastodon_statuses
select n.instance, n.status_id, n.record->>'uri', n.record, p.account, n.url, now(), l.load_id
from _new_records n join _pending_pages p on p.url = n.url cross join _load l;

create or replace temp table _auxiliary_rejects
    (url varchar, record_path varchar, reason varchar, record json);
"""
