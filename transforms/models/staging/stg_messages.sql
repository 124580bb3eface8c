-- The platform-neutral messages model every metric is computed from.
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

final as (
    select * from x_messages
    union all
    select * from twcs_messages_neutral
)

select * from final
