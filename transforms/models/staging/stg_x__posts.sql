-- materialized: view
-- One row per X post, typed. Renames only: the loader parsed each post's fields on the way
-- in (raw.x_posts), so this costs nothing to build, and a read of one night skips the
-- other nights' row groups by created_at.
with source as (
    select * from raw.x_posts
),

final as (
    select
        id as message_id,
        conversation_id,
        -- a post replies to at most one post; X lists it among referenced_tweets
        list_min(
            [ref.id for ref in referenced_tweets if ref.type = 'replied_to']
        ) as parent_id,
        author_id,
        in_reply_to_user_id,
        created_at,
        text,
        lang,
        load_id
    from source
)

select * from final
