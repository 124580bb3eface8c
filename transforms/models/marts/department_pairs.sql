-- One row per unordered pair of configured departments, department_a < department_b
-- (docs/metrics.md): how much they share an audience, and how work and customers pass
-- between them.
with

departments as (
    select * from config.departments
),

org_accounts as (
    select * from config.org_accounts
),

department_customers as (
    select * from intermediate.int_department_customers
),

conversation_departments as (
    select * from intermediate.int_conversation_departments
),

conversation_customers as (
    select * from intermediate.int_conversation_customers
),

co_handling as (
    select * from intermediate.int_department_co_handling
),

org_sequence as (
    select * from intermediate.int_org_message_sequence
),

-- int_conversation_messages leaves the text out; the window's org messages are read with it
-- from int_messages (the window as constants, so only the window is scanned)
org_messages as (
    select * from intermediate.int_messages
    where author_kind = 'org'
        and created_at >= getvariable('build_window_start')
        and created_at < getvariable('build_window_end')
),

pairs as (
    select a.department as department_a, b.department as department_b
    from departments as a
    join departments as b on a.department < b.department
),

audience_sizes as (
    select department, count(*) as customers
    from department_customers
    group by department
),

shared_customers as (
    select a.department as department_a, b.department as department_b, a.platform, a.author_id
    from department_customers as a
    join department_customers as b
        on b.platform = a.platform
        and b.author_id = a.author_id
        and a.department < b.department
),

co_handled_customers as (
    select distinct
        a.department as department_a,
        b.department as department_b,
        c.platform,
        c.author_id
    from conversation_departments as a
    join conversation_departments as b
        on b.platform = a.platform
        and b.conversation_id = a.conversation_id
        and a.department < b.department
    join conversation_customers as c
        on c.platform = a.platform and c.conversation_id = a.conversation_id
),

audience_overlap as (
    select
        s.department_a,
        s.department_b,
        count(*) as shared_customers,
        count(*) filter (where h.author_id is null) as disjoint_shared_customers
    from shared_customers as s
    left join co_handled_customers as h
        on h.department_a = s.department_a
        and h.department_b = s.department_b
        and h.platform = s.platform
        and h.author_id = s.author_id
    group by s.department_a, s.department_b
),

handoffs as (
    select previous_department as from_department, department as to_department, count(*) as handoffs
    from org_sequence
    where is_handoff
    group by previous_department, department
),

-- Mentions are read with the handle characters of the platform (Reddit names may hold a
-- '-'), so '@acmehelp' in '@acmehelpdesk' or 'me@acmehelp.com' is not a mention of acmehelp.
mentions as (
    select
        m.platform,
        m.message_id,
        m.department,
        m.account_platform,
        lower(unnest(
            case
                -- Bluesky marks its mentions (facets): no guessing from the text
                when m.mentioned_handles is not null then m.mentioned_handles
                when m.platform = 'reddit'
                    then regexp_extract_all(m.text, '(?:^|[^A-Za-z0-9_-])@([A-Za-z0-9_-]+)', 1)
                else regexp_extract_all(m.text, '(?:^|[^A-Za-z0-9_])@([A-Za-z0-9_]+)', 1)
            end
        )) as mentioned_handle
    from org_messages as m
    where m.text like '%@%' or len(m.mentioned_handles) > 0
),

referring_messages as (
    select distinct
        m.platform,
        m.message_id,
        m.department as from_department,
        o.department as to_department
    from mentions as m
    join org_accounts as o
        on o.platform = m.account_platform and o.account = m.mentioned_handle
    where o.department <> m.department
),

referrals as (
    select from_department, to_department, count(*) as referrals
    from referring_messages
    group by from_department, to_department
),

final as (
    select
        p.department_a,
        p.department_b,
        coalesce(o.shared_customers, 0) as shared_customers,
        coalesce(o.shared_customers, 0) / nullif(
            coalesce(sa.customers, 0) + coalesce(sb.customers, 0) - coalesce(o.shared_customers, 0),
            0
        )::double as audience_jaccard,
        coalesce(c.co_handled_conversations, 0) as co_handled_conversations,
        coalesce(o.disjoint_shared_customers, 0) as disjoint_shared_customers,
        coalesce(hab.handoffs, 0) as handoffs_a_to_b,
        coalesce(hba.handoffs, 0) as handoffs_b_to_a,
        coalesce(rab.referrals, 0) as referrals_a_to_b,
        coalesce(rba.referrals, 0) as referrals_b_to_a
    from pairs as p
    left join audience_sizes as sa on sa.department = p.department_a
    left join audience_sizes as sb on sb.department = p.department_b
    left join audience_overlap as o
        on o.department_a = p.department_a and o.department_b = p.department_b
    left join co_handling as c
        on c.department_a = p.department_a and c.department_b = p.department_b
    left join handoffs as hab
        on hab.from_department = p.department_a and hab.to_department = p.department_b
    left join handoffs as hba
        on hba.from_department = p.department_b and hba.to_department = p.department_a
    left join referrals as rab
        on rab.from_department = p.department_a and rab.to_department = p.department_b
    left join referrals as rba
        on rba.from_department = p.department_b and rba.to_department = p.department_a
    order by p.department_a, p.department_b
)

select * from final
