-- materialized: view
-- X posts in the platform-neutral shape of int_messages_unioned, each with its author's
-- handle. A view: it only reshapes staging, and readers take the build window out of it.
with posts as (
    select * from staging.stg_x__posts
),

users as (
    select * from staging.stg_x__users
),

final as (
    select
        'x' as platform,
        posts.message_id,
        posts.conversation_id,
        posts.parent_id,
        posts.author_id,
        -- handles compare case-insensitively, without the @
        lower(ltrim(users.username, '@')) as author_handle,
        cast(null as boolean) as author_inbound,
        posts.created_at,
        posts.text,
        cast(null as varchar[]) as mentioned_handles
    from posts
    left join users on users.user_id = posts.author_id
)

select * from final
