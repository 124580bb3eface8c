-- materialized: view
-- Bluesky posts in the platform-neutral shape of int_messages_unioned.
-- The conversation is the thread root's AT URI; the author is the DID (a handle is a
-- domain name that can change hands). Created at is Bluesky's own sort time, the earlier
-- of the record's createdAt (the client's clock) and indexedAt (the AppView's), so a post
-- dated in the future by its client is not. Mentions come from the facets.
with posts as (
    select * from staging.stg_bluesky__posts
),

identities as (
    select * from staging.stg_bluesky__identities
),

-- the configured handle each DID last resolved to: a post by or mentioning an org account
-- is recognised by its DID, so it stays the org's after the handle changes
org_dids as (
    select did, arg_max(handle, load_id) as handle
    from identities
    group by did
),

org_handles as (
    select map_from_entries(coalesce(list({'k': did, 'v': handle}), [])) as handles
    from org_dids
),

final as (
    select
        'bluesky' as platform,
        p.post_uri as message_id,
        coalesce(p.reply_root_uri, p.post_uri) as conversation_id,
        p.reply_parent_uri as parent_id,
        p.author_did as author_id,
        coalesce(o.handle, p.author_handle) as author_handle,
        cast(null as boolean) as author_inbound,
        least(p.record_created_at, p.indexed_at) as created_at,
        p.text,
        list_transform(p.mentioned_dids, lambda did: coalesce(h.handles[did], did))
            as mentioned_handles
    from posts as p
    left join org_dids as o on o.did = p.author_did
    cross join org_handles as h
)

select * from final
