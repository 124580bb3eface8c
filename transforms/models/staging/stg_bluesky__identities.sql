-- materialized: incremental
-- The DID each configured Bluesky handle resolved to (com.atproto.identity.resolveHandle),
-- one row each time a handle's DID changed. Renames only.
with source as (
    select handle, did, loaded_at, load_id from raw.bluesky_identities
),

final as (
    select
        lower(handle) as handle,
        did,
        loaded_at as resolved_at,
        load_id
    from source
)

select * from final
