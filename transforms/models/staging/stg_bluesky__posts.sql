-- materialized: incremental
-- One row per Bluesky post (a postView, or the notification of a mention, reply or quote),
-- typed. Renames and casts only.
with source as (
    select uri, record, load_id from raw.bluesky_posts
),

final as (
    select
        uri as post_uri,
        record->'author'->>'did' as author_did,
        lower(record->'author'->>'handle') as author_handle,
        record->'record'->>'text' as text,
        cast(record->'record'->>'createdAt' as timestamptz) as record_created_at,
        cast(record->>'indexedAt' as timestamptz) as indexed_at,
        record->'record'->'reply'->'root'->>'uri' as reply_root_uri,
        record->'record'->'reply'->'parent'->>'uri' as reply_parent_uri,
        -- mentions are facets (byte ranges of the text tagged with the DID), not '@' text
        list_transform(
            list_filter(
                cast(coalesce(
                    json_extract(record, '$.record.facets[*].features[*]'), []
                ) as json[]),
                lambda feature: (feature->>'$."$type"') = 'app.bsky.richtext.facet#mention'
            ),
            lambda feature: feature->>'did'
        ) as mentioned_dids,
        record->>'reason' as notification_reason,
        load_id
    from source
)

select * from final
