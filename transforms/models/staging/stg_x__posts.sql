-- One row per X post, typed. Renames and casts only.
with source as (
    select id, record from raw.x_posts
),

-- Each record is parsed once: every ->> on the text would parse the whole post again.
parsed as (
    select
        id,
        json_transform(record, '{
            "conversation_id": "VARCHAR", "author_id": "VARCHAR",
            "in_reply_to_user_id": "VARCHAR", "created_at": "VARCHAR", "text": "VARCHAR",
            "lang": "VARCHAR", "referenced_tweets": [{"type": "VARCHAR", "id": "VARCHAR"}]
        }') as post
    from source
),

final as (
    select
        id as message_id,
        post.conversation_id,
        -- a post replies to at most one post; X lists it among referenced_tweets
        list_min(
            [ref.id for ref in post.referenced_tweets if ref.type = 'replied_to']
        ) as parent_id,
        post.author_id,
        post.in_reply_to_user_id,
        cast(post.created_at as timestamptz) as created_at,
        post.text,
        post.lang
    from parsed
)

select * from final
