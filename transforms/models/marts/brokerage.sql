-- Gould and Fernandez (1989) brokerage roles of each org account (docs/metrics.md), on
-- the directed handoff graph of accounts with departments as the groups.
--
-- An account is (platform, handle); no edge joins two platforms. Rows are per
-- (department, handle), the columns the contract names, so a handle configured on two
-- platforms sums its roles over both.
with

org_accounts as (
    select * from config.org_accounts
),

org_sequence as (
    select * from intermediate.int_org_message_sequence
),

edges as (
    select distinct
        platform,
        previous_account as source_account,
        previous_department as source_department,
        account as target_account,
        department as target_department
    from org_sequence
    where previous_account is not null and previous_account <> account
),

-- v brokers (a, b) when a -> v -> b and there is no a -> b; a and b differ.
brokered as (
    select
        i.platform,
        i.target_account as account,
        i.target_department as department,
        i.source_department as department_a,
        o.target_department as department_b
    from edges as i
    join edges as o
        on o.platform = i.platform
        and o.source_account = i.target_account
        and o.target_account <> i.source_account
    anti join edges as direct
        on direct.platform = i.platform
        and direct.source_account = i.source_account
        and direct.target_account = o.target_account
),

roles as (
    select
        department,
        account,
        count(*) filter (
            where department_a = department and department_b = department
        ) as coordinator,
        count(*) filter (
            where department_a <> department and department_b = department
        ) as gatekeeper,
        count(*) filter (
            where department_a = department and department_b <> department
        ) as representative,
        count(*) filter (
            where department_a = department_b and department_a <> department
        ) as itinerant,
        count(*) filter (
            where department_a <> department
            and department_b <> department
            and department_a <> department_b
        ) as liaison
    from brokered
    group by department, account
),

accounts as (
    select distinct department, account
    from org_accounts
),

final as (
    select
        a.department,
        a.account,
        coalesce(r.coordinator, 0) as coordinator,
        coalesce(r.gatekeeper, 0) as gatekeeper,
        coalesce(r.representative, 0) as representative,
        coalesce(r.itinerant, 0) as itinerant,
        coalesce(r.liaison, 0) as liaison
    from accounts as a
    left join roles as r
        on r.department = a.department and r.account = a.account
    order by a.department, a.account
)

select * from final
