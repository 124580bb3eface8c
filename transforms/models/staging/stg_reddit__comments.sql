-- materialized: incremental
-- One row per Reddit comment (t1), typed. Renames and casts only.
-- A comment read from an inbox (mentions, replies) carries no link_id; its context path
-- (/r/<sub>/comments/<submission id>/<slug>/<comment id>/) names the submission instead.
with source as (
    select fullname, record, load_id from raw.reddit_things where kind = 't1'
),

final as (
    select
        record->>'id' as comment_id,
        fullname,
        record->>'link_id' as link_fullname,
        record->>'parent_id' as parent_fullname,
        record->>'context' as context_path,
        record->>'author' as author,
        record->>'author_fullname' as author_fullname,
        record->>'body' as body,
        to_timestamp(cast(record->>'created_utc' as double)) as created_at,
        record->>'subreddit' as subreddit,
        record->>'permalink' as permalink,
        record->>'type' as inbox_type,
        load_id
    from source
)

select * from final
