"""The Reddit page format: what the Reddit source lands, one API answer per page.

A page is one of
    a Listing       {"kind": "Listing", "data": {"children": [thing, ...], "after": ...}}
                    (inbox, user and search listings)
    a comment tree  [Listing(the t3 submission), Listing(t1 comments, replies nested in
                    data.replies as Listings, "more" stubs)]          (GET /comments/<id>)
    morechildren    {"json": {"errors": [], "data": {"things": [thing, ...]}}}
and a thing is {"kind": "t1" | "t3" | "more", "data": {...}}.

Every t1 (comment) and t3 (submission) found, nested replies included, becomes one row of
raw.reddit_things keyed by its fullname (`t1_abc`), the first version loaded winning
(loading the same pages again changes nothing). The row keeps the thing's `data` as
received except `replies`: those are rows of their own, and keeping them would store each
subtree again in every ancestor. "more" stubs are paging hints, not messages: they are
neither loaded nor rejected. Its SQL follows the contract in ingest/formats/__init__.py.
"""

PLATFORM = "reddit"
# the message table INSERT_SQL fills, and the key its rows and _records share
MESSAGES_TABLE = "raw.reddit_things"
MESSAGE_KEY = ("fullname",)

SCHEMA_SQL = """
create table if not exists raw.reddit_things (
    fullname varchar not null,    -- kind and id, e.g. t1_k3j2h1 (a comment), t3_1abcde (a post)
    kind varchar not null,        -- t1 or t3
    record json not null,         -- the thing's data exactly as received, minus replies
    account varchar not null,     -- the org account (or r/<subreddit>) whose extract landed it
    landing_file varchar not null,
    loaded_at timestamptz not null,
    load_id bigint                -- the load that inserted it (ops.load_ids)
);
-- databases created before load ids
alter table raw.reddit_things add column if not exists load_id bigint;
"""

# Things on a landed page, counted apart from RECORDS_SQL (ingest/reconcile.py): every child
# of a Listing, a comment tree's Listings or a morechildren answer, nested replies
# included, "more" stubs not, each one the loader must load, reject or skip.
FETCHED_RECORDS_SQL = """
with recursive listings as (
    select url, page as listing
    from _landed_pages where json_type(page) = 'OBJECT' and (page->>'kind') = 'Listing'
    union all
    select url, unnest(cast(page as json[])) as listing
    from _landed_pages where json_type(page) = 'ARRAY'
),
children(url, thing) as (
    select url, unnest(cast(listing->'data'->'children' as json[]))
    from listings where json_type(listing->'data'->'children') = 'ARRAY'
    union all
    select url, unnest(cast(page->'json'->'data'->'things' as json[]))
    from _landed_pages where json_type(page->'json'->'data'->'things') = 'ARRAY'
    union all
    select url, unnest(cast(thing->'data'->'replies'->'data'->'children' as json[]))
    from children where json_type(thing->'data'->'replies'->'data'->'children') = 'ARRAY'
)
select p.url, count(c.url) filter (where coalesce(c.thing->>'kind', '') <> 'more') as records
from _landed_pages as p
left join children as c using (url)
group by p.url
"""

RECORDS_SQL = r"""
create or replace temp table _page_checks as
with tree_elements as (
    select url, bool_or(coalesce(
        (element->>'kind') is distinct from 'Listing'
            or json_type(element->'data'->'children') is distinct from 'ARRAY',
        true)) as has_a_stranger
    from (
        select url, unnest(cast(page as json[])) as element
        from _platform_pages where json_type(page) = 'ARRAY'
    )
    group by url
)
select p.url,
    case
        when json_type(p.page) = 'ARRAY' then
            case
                when json_array_length(p.page) = 0 then 'comment tree is an empty array'
                when t.has_a_stranger
                    then 'comment tree: every element must be a Listing with data.children'
            end
        when json_type(p.page) <> 'OBJECT' then 'page is not a JSON object or array'
        when (p.page->>'kind') = 'Listing' then
            case
                when json_type(p.page->'data'->'children') is distinct from 'ARRAY'
                    then 'Listing without a data.children array'
            end
        when json_type(p.page->'json') = 'OBJECT' then
            case
                when json_type(p.page->'json'->'errors') = 'ARRAY'
                    and json_array_length(p.page->'json'->'errors') > 0
                    then 'Reddit API errors: ' || (p.page->'json'->'errors')::varchar
                when json_type(p.page->'json'->'data'->'things') is distinct from 'ARRAY'
                    then 'morechildren answer without json.data.things'
            end
        else 'not a Reddit Listing, comment tree or morechildren answer'
    end as reason
from _platform_pages p
left join tree_elements t using (url);

create or replace temp table _reddit_things as
with recursive usable_pages as (
    select p.url, p.page
    from _platform_pages p join _page_checks c using (url)
    where c.reason is null
),
listings as (
    select url, '' as prefix, page as listing
    from usable_pages where json_type(page) = 'OBJECT' and (page->>'kind') = 'Listing'
    union all
    select url, '[' || (i - 1) || ']' as prefix, listing
    from (
        select url,
            unnest(cast(page as json[])) as listing,
            generate_subscripts(cast(page as json[]), 1) as i
        from usable_pages where json_type(page) = 'ARRAY'
    )
),
top_level as (
    select url, prefix || 'data.children[' || (i - 1) || ']' as record_path, thing, i
    from (
        select url, prefix,
            unnest(cast(listing->'data'->'children' as json[])) as thing,
            generate_subscripts(cast(listing->'data'->'children' as json[]), 1) as i
        from listings
    )
    union all
    select url, 'json.data.things[' || (i - 1) || ']' as record_path, thing, i
    from (
        select url,
            unnest(cast(page->'json'->'data'->'things' as json[])) as thing,
            generate_subscripts(cast(page->'json'->'data'->'things' as json[]), 1) as i
        from usable_pages where json_type(page->'json'->'data'->'things') = 'ARRAY'
    )
),
-- replies nest as Listings inside each comment, as deep as the thread
things(url, record_path, thing, depth, i) as (
    select url, record_path, thing, 0, i from top_level
    union all
    select url, record_path || '.data.replies.data.children[' || (k - 1) || ']', child,
        depth + 1, k
    from (
        select url, record_path, depth,
            unnest(cast(thing->'data'->'replies'->'data'->'children' as json[])) as child,
            generate_subscripts(cast(thing->'data'->'replies'->'data'->'children' as json[]), 1)
                as k
        from things
        where json_type(thing->'data'->'replies'->'data'->'children') = 'ARRAY'
    )
)
select url, record_path, depth, i,
    thing->>'kind' as kind,
    case
        when json_type(thing->'data') = 'OBJECT'
            then json_merge_patch(thing->'data', '{"replies": null}')
        else thing
    end as record,
    (thing->>'kind') || '_' || (thing->'data'->>'id') as fullname,
    case
        when json_type(thing) <> 'OBJECT' then 'thing is not a JSON object'
        when (thing->>'kind') is null then 'thing without a kind'
        when (thing->>'kind') not in ('t1', 't3')
            then 'kind ' || (thing->>'kind') || ' is not a comment (t1) or submission (t3)'
        when json_type(thing->'data') is distinct from 'OBJECT' then 'thing without data'
        when (thing->'data'->>'id') is null then 'missing id'
        when not regexp_full_match(thing->'data'->>'id', '[a-z0-9]+') then 'id is not base 36'
        when (thing->'data'->>'name') is not null
            and (thing->'data'->>'name') <> (thing->>'kind') || '_' || (thing->'data'->>'id')
            then 'name ' || (thing->'data'->>'name') || ' does not match kind and id'
        when (thing->'data'->>'author') is null then 'missing author'
        when (thing->'data'->'created_utc') is null then 'missing created_utc'
        when json_type(thing->'data'->'created_utc') not in ('DOUBLE', 'UBIGINT', 'BIGINT')
            then 'created_utc is not a number: ' || (thing->'data'->>'created_utc')
        -- would fail validation's "not in the future" on every later night (5 minutes forgive
        -- a clock running ahead); compared as a number, so no timestamp cast can overflow
        when cast(thing->'data'->>'created_utc' as double) > epoch(now()) + 300
            then 'created_utc is in the future: ' || (thing->'data'->>'created_utc')
        when (thing->>'kind') = 't3' and (thing->'data'->>'title') is null then 'missing title'
        when (thing->>'kind') = 't1' and (thing->'data'->>'body') is null then 'missing body'
        when (thing->>'kind') = 't1' and not coalesce(
                regexp_full_match(thing->'data'->>'parent_id', 't[13]_[a-z0-9]+'), false)
            then 'parent_id is not a t1_ or t3_ fullname: '
                || coalesce(thing->'data'->>'parent_id', 'null')
        when (thing->>'kind') = 't1'
            and not coalesce(
                regexp_full_match(thing->'data'->>'link_id', 't3_[a-z0-9]+'), false)
            and not coalesce(
                regexp_matches(thing->'data'->>'context', '/comments/[a-z0-9]+/'), false)
            then 'no submission: neither a link_id nor a context path'
    end as reason
from things
where coalesce(thing->>'kind', '') <> 'more';

create or replace temp table _records as
select url, record_path, record, reason, fullname, kind, depth, i from _reddit_things;

"""

# the order in which the first copy of a key in one batch is chosen (the one loaded)
BATCH_ORDER = "url, depth, record_path"

INSERT_SQL = r"""
insert into raw.reddit_things
select n.fullname, n.kind, n.record, p.account, n.url, now(), l.load_id
from _new_records n join _pending_pages p on p.url = n.url cross join _load l;

create or replace temp table _auxiliary_rejects
    (url varchar, record_path varchar, reason varchar, record json);
"""
