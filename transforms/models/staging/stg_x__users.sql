-- materialized: incremental
-- One row per X user seen in any page's includes.users. Renames and casts only.
with source as (
    select id, record, load_id from raw.x_users
),

final as (
    select
        id as user_id,
        record->>'username' as username,
        record->>'name' as display_name,
        load_id
    from source
)

select * from final
