"""The Bluesky page format: what the Bluesky source lands, one XRPC answer per page.

A page is the JSON body of one of (lexicons of bluesky-social/atproto, lexicons/)
    app.bsky.notification.listNotifications  {"notifications": [notification, ...], "cursor"}
    app.bsky.feed.searchPosts                {"posts": [postView, ...], "cursor", "hitsTotal"}
    app.bsky.feed.getAuthorFeed              {"feed": [{"post": postView, "reply", "reason"}]}
    app.bsky.feed.getPostThread              {"thread": threadViewPost}
    com.atproto.identity.resolveHandle       {"did": "did:plc:..."}

A thread nests: a threadViewPost holds its `post`, its `parent` (a threadViewPost) and its
`replies` (threadViewPosts), as deep as the thread; a node that is a notFoundPost or a
blockedPost (`notFound` / `blocked` true) holds no post and is neither loaded nor rejected.

Every post found (a notification for a mention, reply or quote is a post too: it has the
post's uri, author, record and indexedAt) becomes one row of raw.bluesky_posts keyed by its
AT URI, the first version loaded winning. The row keeps the object as received. A
resolveHandle answer that changes a handle's DID becomes a row of raw.bluesky_identities:
the account's handle (from the extract it was landed by) and its DID, which is what
identity keys on, since a handle can change hands. Its SQL follows the contract in
ingest/formats/__init__.py.
"""

PLATFORM = "bluesky"
# the message table INSERT_SQL fills, and the key its rows and _records share
MESSAGES_TABLE = "raw.bluesky_posts"
MESSAGE_KEY = ("uri",)

SCHEMA_SQL = """
create table if not exists raw.bluesky_posts (
    uri varchar not null,         -- at://<author did>/app.bsky.feed.post/<record key>
    record json not null,         -- the postView (or notification) exactly as received
    account varchar not null,     -- the org handle whose extract landed it
    landing_file varchar not null,
    loaded_at timestamptz not null,
    load_id bigint                -- the load that inserted it (ops.load_ids)
);
create table if not exists raw.bluesky_identities (
    handle varchar not null,      -- the configured handle that was resolved
    did varchar not null,
    landing_file varchar not null,
    loaded_at timestamptz not null,
    load_id bigint
);
"""


def _page_posts(pages: str) -> str:
    """CTEs ending in `items` (url, record_path, post): every post on the pages of table
    `pages` (url, page json) and where it sits; shared by FETCHED_RECORDS_SQL and RECORDS_SQL."""
    return _PAGE_POSTS.replace("_pages_in", pages)


_PAGE_POSTS = """
with recursive thread_nodes(url, path, node) as (
    select url, 'thread', page->'thread'
    from _pages_in where json_type(page->'thread') = 'OBJECT'
    union all
    select url, child.path, child.node
    from (
        select url, unnest(list_concat(
            case when json_type(node->'parent') = 'OBJECT'
                then [{'path': path || '.parent', 'node': node->'parent'}] end,
            case when json_type(node->'replies') = 'ARRAY'
                then list_transform(
                    cast(node->'replies' as json[]),
                    lambda reply, i: {'path': path || '.replies[' || (i - 1) || ']', 'node': reply}
                ) end
        )) as child
        from thread_nodes
    )
),
items as (
    select url, 'notifications[' || (i - 1) || ']' as record_path, item as post
    from (
        select url, unnest(cast(page->'notifications' as json[])) as item,
            generate_subscripts(cast(page->'notifications' as json[]), 1) as i
        from _pages_in where json_type(page->'notifications') = 'ARRAY'
    )
    union all
    select url, 'feed[' || (i - 1) || '].post', item->'post'
    from (
        select url, unnest(cast(page->'feed' as json[])) as item,
            generate_subscripts(cast(page->'feed' as json[]), 1) as i
        from _pages_in where json_type(page->'feed') = 'ARRAY'
    )
    union all
    select url, 'posts[' || (i - 1) || ']', item
    from (
        select url, unnest(cast(page->'posts' as json[])) as item,
            generate_subscripts(cast(page->'posts' as json[]), 1) as i
        from _pages_in where json_type(page->'posts') = 'ARRAY'
    )
    union all
    select url, path || '.post', node->'post'
    from thread_nodes
    where coalesce(json_type(node), '') <> 'OBJECT'
        or not (coalesce(try_cast(node->>'notFound' as boolean), false)
            or coalesce(try_cast(node->>'blocked' as boolean), false))
)
"""

# Posts on a landed page, counted apart from RECORDS_SQL (ingest/reconcile.py).
FETCHED_RECORDS_SQL = f"""
{_page_posts("_landed_pages")}
select p.url, count(i.url) as records
from _landed_pages as p
left join items as i using (url)
group by p.url
"""

RECORDS_SQL = f"""
create or replace temp table _page_checks as
select url,
    case
        when json_type(page) <> 'OBJECT' then 'page is not a JSON object'
        when json_type(page->'notifications') = 'ARRAY' or json_type(page->'feed') = 'ARRAY'
            or json_type(page->'posts') = 'ARRAY' or json_type(page->'thread') = 'OBJECT'
            then null
        when json_type(page->'did') = 'VARCHAR' then
            case
                when not starts_with(page->>'did', 'did:')
                    then 'resolveHandle answer: did ' || (page->>'did') || ' is not a DID'
            end
        else 'not a Bluesky listNotifications, searchPosts, getAuthorFeed, getPostThread or '
            || 'resolveHandle answer'
    end as reason
from _platform_pages;

create or replace temp view _usable_pages as
select p.url, p.page from _platform_pages p join _page_checks c using (url) where c.reason is null;

create or replace temp table _records as
{_page_posts("_usable_pages")}
select url, record_path, post as record, post->>'uri' as uri,
    case
        when coalesce(json_type(post), '') <> 'OBJECT' then 'post is not a JSON object'
        when (post->>'uri') is null then 'missing uri'
        when not regexp_full_match(post->>'uri', 'at://did:[a-z]+:[^/]+/app\\.bsky\\.feed\\.post/[^/]+')
            then 'uri is not the AT URI of a post: ' || (post->>'uri')
        when (post->'author'->>'did') is null then 'missing author.did'
        when split_part(split_part(post->>'uri', '//', 2), '/', 1) <> (post->'author'->>'did')
            then 'author.did ' || (post->'author'->>'did') || ' is not the repository of the uri'
        when coalesce(json_type(post->'record'), '') <> 'OBJECT' then 'missing record'
        when (post->'record'->>'$."$type"') is distinct from 'app.bsky.feed.post'
            then 'record is a ' || coalesce(post->'record'->>'$."$type"', 'record without $type')
                || ', not an app.bsky.feed.post'
        when coalesce(json_type(post->'record'->'text'), '') <> 'VARCHAR'
            then 'missing record.text'
        when try_cast(post->'record'->>'createdAt' as timestamptz) is null
            then 'record.createdAt is not a timestamp: '
                || coalesce(post->'record'->>'createdAt', 'null')
        when try_cast(post->>'indexedAt' as timestamptz) is null
            then 'indexedAt is not a timestamp: ' || coalesce(post->>'indexedAt', 'null')
        -- staging dates a post by the earlier of the two; in the future it would fail
        -- validation's "not in the future" on every later night (5 minutes forgive a clock)
        when least(cast(post->'record'->>'createdAt' as timestamptz),
                cast(post->>'indexedAt' as timestamptz)) > now() + interval 5 minutes
            then 'createdAt and indexedAt are in the future: ' || (post->>'indexedAt')
        when json_type(post->'record'->'reply') = 'OBJECT'
            and (post->'record'->'reply'->'root'->>'uri') is null
            then 'record.reply without root.uri'
    end as reason
from items;

"""

# the order in which the first copy of a key in one batch is chosen (the one loaded)
BATCH_ORDER = "url, record_path"

INSERT_SQL = """
insert into raw.bluesky_posts
select n.uri, n.record, p.account, n.url, now(), l.load_id
from _new_records n join _pending_pages p on p.url = n.url cross join _load l;

-- a resolution is a row only when it changes the handle's DID: every extract run lands a
-- folder of its own, and a night run again must not add a row saying the same
insert into raw.bluesky_identities
select account, did, url, now(), load_id
from (
    select p.account, pg.page->>'did' as did, pg.url, l.load_id
    from _usable_pages pg join _pending_pages p on p.url = pg.url cross join _load l
    where json_type(pg.page->'did') = 'VARCHAR'
    qualify row_number() over (partition by p.account, pg.page->>'did' order by pg.url) = 1
) as resolved
where did is distinct from (
    select arg_max(known.did, known.load_id) from raw.bluesky_identities as known
    where known.handle = resolved.account
);

create or replace temp table _auxiliary_rejects
    (url varchar, record_path varchar, reason varchar, record json);
"""
