-- materialized: incremental
-- One row per Mastodon status as one instance numbered it, typed. Renames and casts only.
-- An `acct` is relative to the instance that served it: `alice` is local there,
-- `bob@other.social` is not; both become full addresses here.
with source as (
    select instance, status_id, uri, record, load_id from raw.mastodon_statuses
),

final as (
    select
        instance,
        status_id,
        uri as status_uri,
        record->>'in_reply_to_id' as in_reply_to_id,
        lower(
            case
                when contains(record->'account'->>'acct', '@') then record->'account'->>'acct'
                else (record->'account'->>'acct') || '@' || instance
            end
        ) as author_address,
        cast(record->>'created_at' as timestamptz) as created_at,
        record->>'content' as content_html,
        list_transform(
            cast(coalesce(record->'mentions', '[]') as json[]),
            lambda mention: lower(
                case
                    when contains(mention->>'acct', '@') then mention->>'acct'
                    else (mention->>'acct') || '@' || instance
                end
            )
        ) as mentioned_addresses,
        record->>'visibility' as visibility,
        load_id
    from source
)

select * from final
