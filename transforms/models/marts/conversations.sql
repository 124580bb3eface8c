-- One row per customer conversation in the build window (docs/metrics.md).
with

messages as (
    select * from intermediate.int_conversation_messages
    where in_customer_conversation
),

org_sequence as (
    select * from intermediate.int_org_message_sequence
),

message_counts as (
    select
        platform,
        conversation_id,
        min(created_at) filter (where author_kind = 'customer') as first_customer_at,
        count(*) as messages,
        count(*) filter (where author_kind = 'customer') as customer_messages,
        count(*) filter (where author_kind = 'org') as org_messages
    from messages
    group by platform, conversation_id
),

departments_engaged as (
    select
        platform,
        conversation_id,
        list(distinct department order by department) as departments_engaged,
        count(*) filter (where is_handoff) as handoffs
    from org_sequence
    group by platform, conversation_id
),

-- An org message before the customer's first one (the org started the thread) is not a
-- response; ties in time go to the message that comes first in the conversation.
first_responses as (
    select
        o.platform,
        o.conversation_id,
        min(o.created_at) as first_response_at,
        arg_min(o.department, o.position) as first_department
    from messages as o
    join message_counts as c
        on c.platform = o.platform and c.conversation_id = o.conversation_id
    where o.author_kind = 'org' and o.created_at >= c.first_customer_at
    group by o.platform, o.conversation_id
),

final as (
    select
        c.platform,
        c.conversation_id,
        c.first_customer_at,
        r.first_response_at,
        epoch(r.first_response_at) - epoch(c.first_customer_at) as first_response_seconds,
        r.first_department,
        coalesce(d.departments_engaged, []::varchar[]) as departments_engaged,
        len(coalesce(d.departments_engaged, []::varchar[])) as n_departments,
        len(coalesce(d.departments_engaged, []::varchar[])) >= 2 as cross_department,
        coalesce(d.handoffs, 0) as handoffs,
        c.messages,
        c.customer_messages,
        c.org_messages
    from message_counts as c
    left join departments_engaged as d
        on d.platform = c.platform and d.conversation_id = c.conversation_id
    left join first_responses as r
        on r.platform = c.platform and r.conversation_id = c.conversation_id
)

select * from final
