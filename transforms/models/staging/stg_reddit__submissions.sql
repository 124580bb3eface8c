-- materialized: incremental
-- One row per Reddit submission (t3), typed. Renames and casts only.
with source as (
    select fullname, record, load_id from raw.reddit_things where kind = 't3'
),

final as (
    select
        record->>'id' as submission_id,
        fullname,
        record->>'author' as author,
        record->>'author_fullname' as author_fullname,
        record->>'title' as title,
        record->>'selftext' as selftext,
        to_timestamp(cast(record->>'created_utc' as double)) as created_at,
        record->>'subreddit' as subreddit,
        record->>'permalink' as permalink,
        try_cast(record->>'num_comments' as integer) as num_comments,
        load_id
    from source
)

select * from final
