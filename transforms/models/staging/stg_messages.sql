-- The platform-neutral messages model every metric is computed from.
-- Later sources (Reddit, TWCS imports) add their rows with union all.
with x_posts as (
    select * from staging.stg_x__posts
),

x_users as (
    select * from staging.stg_x__users
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

final as (
    select * from x_messages
)

select * from final
