-- One row per X post, typed. Renames and casts only.
with source as (
    select id, record from raw.x_posts
),

replied_to as (
    -- a post replies to at most one post; X lists it among referenced_tweets
    select id, min(ref->>'id') as parent_id
    from (
        select id, unnest(cast(record->'referenced_tweets' as json[])) as ref
        from source
        where json_type(record->'referenced_tweets') = 'ARRAY'
    )
    where (ref->>'type') = 'replied_to'
    group by id
),

final as (
    select
        source.id as message_id,
        source.record->>'conversation_id' as conversation_id,
        replied_to.parent_id,
        source.record->>'author_id' as author_id,
        source.record->>'in_reply_to_user_id' as in_reply_to_user_id,
        cast(source.record->>'created_at' as timestamptz) as created_at,
        source.record->>'text' as text,
        source.record->>'lang' as lang
    from source
    left join replied_to using (id)
)

select * from final
