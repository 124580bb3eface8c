-- materialized: view
-- Every platform's messages in one shape: the relation every metric is computed from
-- (docs/metrics.md). One row per (platform, message_id). A view: it only unions views of
-- staging, and int_messages reads the build window out of it.
-- mentioned_handles: the handles a message mentions where the platform marks them
-- (Bluesky facets, Mastodon's mentions); null where they are read from the text (X, Reddit).
with x_messages as (
    select * from intermediate.int_x__messages
),

twcs_messages as (
    select * from intermediate.int_twcs__messages
),

reddit_messages as (
    select * from intermediate.int_reddit__messages
),

bluesky_messages as (
    select * from intermediate.int_bluesky__messages
),

mastodon_messages as (
    select * from intermediate.int_mastodon__messages
),

final as (
    select * from x_messages
    union all
    select * from twcs_messages
    union all
    select * from reddit_messages
    union all
    select * from bluesky_messages
    union all
    select * from mastodon_messages
)

select * from final
