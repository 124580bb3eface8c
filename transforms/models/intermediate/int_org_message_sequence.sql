-- The org messages of each customer conversation in order, each with the org message
-- before it: the steps that handoffs and the brokerage graph are counted from.
with

org_messages as (
    select
        platform,
        conversation_id,
        position,
        message_id,
        account,
        department
    from intermediate.int_conversation_messages
    where in_customer_conversation and author_kind = 'org'
),

final as (
    select
        *,
        lag(account) over conversation_order as previous_account,
        lag(department) over conversation_order as previous_department,
        coalesce(department <> lag(department) over conversation_order, false) as is_handoff
    from org_messages
    window conversation_order as (partition by platform, conversation_id order by position)
)

select * from final
