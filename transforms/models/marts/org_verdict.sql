-- materialized: history
-- One row per build window (docs/metrics.md): is customer care siloed, glued by one
-- department, or networked? Kept per window so nightly verdicts build up a trend.
with

build_window as (
    select * from config.build_window
),

thresholds as (
    select * from config.thresholds
),

conversations as (
    select * from marts.conversations
),

scorecard as (
    select * from marts.department_scorecard
),

department_customers as (
    select * from intermediate.int_department_customers
),

conversation_customers as (
    select * from intermediate.int_conversation_customers
),

conversation_counts as (
    select
        count(*) as customer_conversations,
        count(*) filter (where n_departments >= 1) as engaged_conversations,
        count(*) filter (
            where n_departments >= 1 and first_response_at is not null
        ) as handled_conversations,
        count(*) filter (where cross_department) as cross_department_conversations,
        count(*) filter (where n_departments = 1) as solo_conversations
    from conversations
),

multi_department_customers as (
    select platform, author_id
    from department_customers
    group by platform, author_id
    having count(*) >= 2
),

cross_department_customers as (
    select distinct c.platform, c.author_id
    from conversation_customers as c
    semi join conversations as v
        on v.platform = c.platform
        and v.conversation_id = c.conversation_id
        and v.cross_department
),

customer_counts as (
    select
        count(*) as multi_department_customers,
        count(*) filter (where x.author_id is null) as fragmented_customers
    from multi_department_customers as m
    left join cross_department_customers as x
        on x.platform = m.platform and x.author_id = m.author_id
),

top_glue_score as (
    select max(glue_score) as top_glue_score
    from scorecard
),

-- A tie at the top means no single department is the glue.
glue as (
    select
        t.top_glue_score,
        count(s.department) as departments_at_top,
        any_value(s.department) as top_department
    from top_glue_score as t
    left join scorecard as s on s.glue_score = t.top_glue_score
    group by t.top_glue_score
),

measured as (
    select
        w.window_start,
        w.window_end,
        c.customer_conversations,
        c.engaged_conversations,
        c.handled_conversations,
        c.cross_department_conversations,
        c.cross_department_conversations
            / nullif(c.engaged_conversations, 0)::double as cross_department_share,
        (c.cross_department_conversations - c.solo_conversations)
            / nullif(c.cross_department_conversations + c.solo_conversations, 0)::double
            as org_ei_index,
        u.multi_department_customers,
        u.fragmented_customers,
        u.fragmented_customers / nullif(u.multi_department_customers, 0)::double
            as fragmented_share,
        case
            when g.departments_at_top = 1 and g.top_glue_score >= t.glue_threshold
                then g.top_department
        end as glue_department,
        t.min_conversations,
        t.silo_threshold
    from build_window as w
    cross join conversation_counts as c
    cross join customer_counts as u
    cross join glue as g
    cross join thresholds as t
),

final as (
    select
        window_start,
        window_end,
        customer_conversations,
        engaged_conversations,
        handled_conversations,
        cross_department_conversations,
        cross_department_share,
        org_ei_index,
        multi_department_customers,
        fragmented_customers,
        fragmented_share,
        glue_department,
        case
            -- with nothing engaged there is no share to judge, whatever the minimum
            when engaged_conversations < min_conversations or engaged_conversations = 0
                then 'insufficient_data'
            when cross_department_share < silo_threshold then 'siloed'
            when glue_department is not null then 'glued'
            else 'networked'
        end as verdict
    from measured
)

select * from final
