-- One row per configured department, also one that engaged in nothing (docs/metrics.md).
with

departments as (
    select * from config.departments
),

conversation_departments as (
    select * from intermediate.int_conversation_departments
),

conversations as (
    select * from marts.conversations
),

co_handling as (
    select * from intermediate.int_department_co_handling
),

betweenness as (
    select * from intermediate.int_department_betweenness
),

engagement as (
    select
        department,
        count(*) as conversations,
        count(*) filter (where n_departments = 1) as solo_conversations,
        count(*) filter (where n_departments >= 2) as shared_conversations
    from conversation_departments
    group by department
),

cross_department as (
    select count(*) as cross_department_conversations
    from conversations
    where cross_department
),

customers as (
    select department, count(*) as customers
    from intermediate.int_department_customers
    group by department
),

first_responses as (
    select
        first_department as department,
        count(*) as first_responses,
        -- quantile_cont interpolates: the mean of the two middle values for an even count
        quantile_cont(first_response_seconds, 0.5) as median_first_response_seconds
    from conversations
    where first_department is not null
    group by first_department
),

partners as (
    select department, count(*) as partners
    from (
        select department_a as department from co_handling
        union all
        select department_b as department from co_handling
    )
    group by department
),

scored as (
    select
        d.position,
        d.department,
        coalesce(e.conversations, 0) as conversations,
        coalesce(e.solo_conversations, 0) as solo_conversations,
        coalesce(e.shared_conversations, 0) as shared_conversations,
        coalesce(c.customers, 0) as customers,
        coalesce(f.first_responses, 0) as first_responses,
        f.median_first_response_seconds,
        coalesce(e.shared_conversations, 0)
            / nullif(x.cross_department_conversations, 0)::double as bridging_share,
        coalesce(p.partners, 0) as partners,
        b.betweenness
    from departments as d
    cross join cross_department as x
    left join engagement as e on e.department = d.department
    left join customers as c on c.department = d.department
    left join first_responses as f on f.department = d.department
    left join partners as p on p.department = d.department
    left join betweenness as b on b.department = d.department
),

final as (
    select
        department,
        conversations,
        solo_conversations,
        shared_conversations,
        -- Krackhardt and Stern's E-I index: -1 all internal (a silo), +1 all shared
        (shared_conversations - solo_conversations)
            / nullif(shared_conversations + solo_conversations, 0)::double as ei_index,
        customers,
        first_responses,
        median_first_response_seconds,
        bridging_share,
        partners,
        betweenness,
        case when partners >= 2 then bridging_share else 0 end::double as glue_score
    from scored
    order by position
)

select * from final
