-- materialized: incremental
-- One row per imported TWCS tweet, typed. Renames and casts only: the import
-- (ingest/twcs) refused every row these casts would fail on.
with source as (
    select * from raw.twcs_messages
),

final as (
    select
        tweet_id as message_id,
        -- the structure comes from this link alone: response_tweet_id is often mangled
        in_response_to_tweet_id as parent_id,
        author_id,
        cast(inbound as boolean) as inbound,
        strptime(created_at, '%a %b %d %H:%M:%S %z %Y') as created_at,
        text,
        response_tweet_id,
        source_file,
        load_id
    from source
)

select * from final
