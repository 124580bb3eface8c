-- materialized: view
-- The platform-neutral messages model every metric is computed from. A view: it only
-- reshapes the staging tables, and int_messages reads the build window out of it.
-- Later sources (Reddit, TWCS imports, Bluesky) add their rows with union all.
-- mentioned_handles: the handles a message mentions where the platform marks them
-- (Bluesky facets); null where they are read from the text (X, Reddit).
with x_posts as (
    select * from staging.stg_x__posts
),

x_users as (
    select * from staging.stg_x__users
),

twcs_messages as (
    select * from staging.stg_twcs__messages
),

x_messages as (
    select
        'x' as platform,
        x_posts.message_id,
        x_posts.conversation_id,
        x_posts.parent_id,
        x_posts.author_id,
        -- handles compare case-insensitively, without the @
        lower(ltrim(x_users.username, '@')) as author_handle,
        cast(null as boolean) as author_inbound,
        x_posts.created_at,
        x_posts.text,
        cast(null as varchar[]) as mentioned_handles
    from x_posts
    left join x_users on x_users.user_id = x_posts.author_id
),

-- TWCS has no conversation id (int_messages follows the reply links) and no handles
-- apart from author_id: a company's handle, or a customer's anonymised number.
twcs_messages_neutral as (
    select
        'twcs' as platform,
        message_id,
        cast(null as varchar) as conversation_id,
        parent_id,
        author_id,
        lower(author_id) as author_handle,
        inbound as author_inbound,
        created_at,
        text,
        cast(null as varchar[]) as mentioned_handles
    from twcs_messages
),

reddit_comments as (
    select * from staging.stg_reddit__comments
),

reddit_submissions as (
    select * from staging.stg_reddit__submissions
),

-- Reddit: the conversation is the submission. Ids are fullnames (t1_ comment, t3_
-- submission): comments and submissions are numbered by separate counters, so bare ids
-- could collide, and a parent_id already names its parent's fullname. A deleted or
-- removed author ([deleted], [removed]) is unknown, never a customer. Usernames are
-- unique and never change, and author_fullname is absent from deleted items, so the
-- lowercased name is the author id.
reddit_things as (
    select
        fullname as message_id,
        coalesce(
            nullif(regexp_extract(link_fullname, '^(t3_[a-z0-9]+)$', 1), ''),
            nullif('t3_' || regexp_extract(context_path, '/comments/([a-z0-9]+)/', 1), 't3_')
        ) as conversation_id,
        nullif(regexp_extract(parent_fullname, '^(t[13]_[a-z0-9]+)$', 1), '') as parent_id,
        author,
        created_at,
        body as text
    from reddit_comments
    union all
    select
        fullname as message_id,
        fullname as conversation_id,
        cast(null as varchar) as parent_id,
        author,
        created_at,
        -- a link post has no selftext; the title is what people answer
        case
            when coalesce(selftext, '') = '' then title
            else title || chr(10) || chr(10) || selftext
        end as text
    from reddit_submissions
),

reddit_messages as (
    select
        'reddit' as platform,
        message_id,
        conversation_id,
        parent_id,
        case when author not in ('[deleted]', '[removed]') then lower(author) end as author_id,
        case when author not in ('[deleted]', '[removed]') then lower(author) end
            as author_handle,
        cast(null as boolean) as author_inbound,
        created_at,
        text,
        cast(null as varchar[]) as mentioned_handles
    from reddit_things
),

bluesky_posts as (
    select * from staging.stg_bluesky__posts
),

-- the configured handle each DID last resolved to: a post by or mentioning an org account
-- is recognised by its DID, so it stays the org's after the handle changes
bluesky_org_dids as (
    select did, arg_max(handle, load_id) as handle
    from staging.stg_bluesky__identities
    group by did
),

bluesky_org_handles as (
    select map_from_entries(coalesce(list({'k': did, 'v': handle}), [])) as handles
    from bluesky_org_dids
),

-- Bluesky: the conversation is the thread root's AT URI; the author is the DID (a handle
-- is a domain name that can change hands). Created at is Bluesky's own sort time, the
-- earlier of the record's createdAt (the client's clock) and indexedAt (the AppView's),
-- so a post dated in the future by its client is not. Mentions come from the facets.
bluesky_messages as (
    select
        'bluesky' as platform,
        p.post_uri as message_id,
        coalesce(p.reply_root_uri, p.post_uri) as conversation_id,
        p.reply_parent_uri as parent_id,
        p.author_did as author_id,
        coalesce(o.handle, p.author_handle) as author_handle,
        cast(null as boolean) as author_inbound,
        least(p.record_created_at, p.indexed_at) as created_at,
        p.text,
        list_transform(p.mentioned_dids, lambda did: coalesce(h.handles[did], did))
            as mentioned_handles
    from bluesky_posts as p
    left join bluesky_org_dids as o on o.did = p.author_did
    cross join bluesky_org_handles as h
),

final as (
    select * from x_messages
    union all
    select * from twcs_messages_neutral
    union all
    select * from reddit_messages
    union all
    select * from bluesky_messages
)

select * from final
