-- materialized: view
-- Imported TWCS tweets in the platform-neutral shape of int_messages_unioned.
-- TWCS has no conversation id (int_reply_chain_conversations follows the reply links) and
-- no handles apart from author_id: a company's handle, or a customer's anonymised number.
with messages as (
    select * from staging.stg_twcs__messages
),

final as (
    select
        'twcs' as platform,
        message_id,
        cast(null as varchar) as conversation_id,
        parent_id,
        author_id,
        lower(author_id) as author_handle,
        inbound as author_inbound,
        created_at,
        text,
        cast(null as varchar[]) as mentioned_handles
    from messages
)

select * from final
