-- materialized: view
-- Reddit comments and submissions in the platform-neutral shape of int_messages_unioned.
-- The conversation is the submission. Ids are fullnames (t1_ comment, t3_ submission):
-- comments and submissions are numbered by separate counters, so bare ids could collide,
-- and a parent_id already names its parent's fullname. A deleted or removed author
-- ([deleted], [removed]) is unknown, never a customer. Usernames are unique and never
-- change, and author_fullname is absent from deleted items, so the lowercased name is the
-- author id.
with comments as (
    select * from staging.stg_reddit__comments
),

submissions as (
    select * from staging.stg_reddit__submissions
),

things as (
    select
        fullname as message_id,
        -- a comment read from an inbox has no link_id: its context path names the submission
        coalesce(
            nullif(regexp_extract(link_fullname, '^(t3_[a-z0-9]+)$', 1), ''),
            nullif('t3_' || regexp_extract(context_path, '/comments/([a-z0-9]+)/', 1), 't3_')
        ) as conversation_id,
        nullif(regexp_extract(parent_fullname, '^(t[13]_[a-z0-9]+)$', 1), '') as parent_id,
        author,
        created_at,
        body as text
    from comments
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
    from submissions
),

final as (
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
    from things
)

select * from final
