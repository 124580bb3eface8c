-- One row per engaged conversation and department engaged in it.
with

org_messages as (
    select platform, conversation_id, department
    from intermediate.int_conversation_messages
    where in_customer_conversation and author_kind = 'org'
),

engaged as (
    select distinct platform, conversation_id, department
    from org_messages
),

final as (
    select
        platform,
        conversation_id,
        department,
        count(*) over (partition by platform, conversation_id) as n_departments
    from engaged
)

select * from final
