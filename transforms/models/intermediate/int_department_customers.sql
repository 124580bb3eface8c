-- C(d): the customers of each department, those who wrote in a conversation it engaged in.
with

conversation_departments as (
    select * from intermediate.int_conversation_departments
),

conversation_customers as (
    select * from intermediate.int_conversation_customers
),

final as (
    select distinct
        d.department,
        c.platform,
        c.author_id
    from conversation_departments as d
    join conversation_customers as c
        on c.platform = d.platform and c.conversation_id = d.conversation_id
)

select * from final
