-- The co-handling graph: an undirected edge between two departments for every engaged
-- conversation both engaged in, weighted by how many there were.
with

conversation_departments as (
    select * from intermediate.int_conversation_departments
    where n_departments >= 2
),

final as (
    select
        a.department as department_a,
        b.department as department_b,
        count(*) as co_handled_conversations
    from conversation_departments as a
    join conversation_departments as b
        on b.platform = a.platform
        and b.conversation_id = a.conversation_id
        and a.department < b.department
    group by a.department, b.department
)

select * from final
