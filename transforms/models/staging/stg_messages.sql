-- materialized: view
-- The platform-neutral messages model every metric is computed from. A view: it only
-- reshapes the staging tables, and int_messages reads the build window out of it.
-- Later sources (Reddit, TWCS imports) add their rows with union all.
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
        x_posts.text
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
        text
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
        text
    from reddit_things
),

final as (
    select * from x_messages
    union all
    select * from twcs_messages_neutral
    union all
    select * from reddit_messages
)

select * from final
