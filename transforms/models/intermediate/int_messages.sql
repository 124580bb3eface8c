-- Every message with the kind of its author and the conversation it belongs to.
--
-- Sources without a conversation id (TWCS imports) get one from their reply links: the
-- message at the top of the chain (whose parent is not in the data) names the
-- conversation. Resolution runs over all messages, not the build window, so a
-- conversation keeps the same id whichever window is measured.
with recursive

messages as (
    select * from staging.stg_messages
),

-- distinct: a handle listed twice in the config must not duplicate its messages
org_accounts as (
    select distinct platform, account, department from config.org_accounts
),

ignored_accounts as (
    select distinct platform, account from config.ignored_accounts
),

-- TWCS is an export of X customer support: its handles are X handles, so the accounts
-- configured for X are the ones to recognise there.
messages_with_account_platform as (
    select
        *,
        case platform when 'twcs' then 'x' else platform end as account_platform
    from messages
),

authored as (
    select
        m.*,
        case
            when o.account is not null then 'org'
            when i.account is not null then 'other'
            when m.author_inbound = false then 'other'
            -- a deleted account cannot be told apart from the org's own staff or a bot,
            -- so it is never counted as a customer
            when m.author_handle is null then 'unknown'
            else 'customer'
        end as author_kind,
        o.department,
        o.account
    from messages_with_account_platform as m
    left join org_accounts as o
        on o.platform = m.account_platform and o.account = m.author_handle
    left join ignored_accounts as i
        on i.platform = m.account_platform and i.account = m.author_handle
),

needs_conversation as (
    select platform, message_id, parent_id
    from messages
    where conversation_id is null
),

-- A reply chain starts where the parent is missing from the data (that message is the
-- root) or where the parent already carries a conversation id (the chain joins it).
chain_starts as (
    select
        n.platform,
        n.message_id,
        coalesce(p.conversation_id, n.message_id) as resolved_conversation_id
    from needs_conversation as n
    left join messages as p
        on p.platform = n.platform and p.message_id = n.parent_id
    where p.message_id is null or p.conversation_id is not null
),

-- Walks down from the chain starts, top-down rather than from every message upwards:
-- each message has one parent, so it is reached at most once, and the recursion stops
-- after as many steps as the deepest thread. Messages in (or hanging under) a reply cycle
-- have no chain start above them and are never reached here.
resolved_by_chain as (
    select platform, message_id, resolved_conversation_id
    from chain_starts
    union all
    select r.platform, n.message_id, r.resolved_conversation_id
    from resolved_by_chain as r
    join needs_conversation as n
        on n.platform = r.platform and n.parent_id = r.message_id
),

with_chain_conversation as (
    select
        a.*,
        coalesce(a.conversation_id, r.resolved_conversation_id) as resolved_conversation_id
    from authored as a
    left join resolved_by_chain as r
        on r.platform = a.platform and r.message_id = a.message_id
),

-- Bad data only: what is left is closed under parent links and every chain in it ends in
-- a cycle, so it is small and the full ancestor closure is affordable.
cyclic as (
    select platform, message_id, parent_id
    from with_chain_conversation
    where resolved_conversation_id is null
),

ancestry as (
    select platform, message_id, parent_id as ancestor_id
    from cyclic
    union
    select a.platform, a.message_id, c.parent_id as ancestor_id
    from ancestry as a
    join cyclic as c
        on c.platform = a.platform and c.message_id = a.ancestor_id
),

cycle_members as (
    select platform, message_id
    from ancestry
    where ancestor_id = message_id
),

-- The cycle is cut at its smallest id (as a number where ids are numeric), which becomes
-- the root of everything in and under the cycle.
resolved_by_cycle as (
    select
        a.platform,
        a.message_id,
        a.ancestor_id as root_id
    from ancestry as a
    semi join cycle_members as c
        on c.platform = a.platform and c.message_id = a.ancestor_id
    qualify row_number() over (
        partition by a.platform, a.message_id
        order by try_cast(a.ancestor_id as hugeint) nulls last, a.ancestor_id
    ) = 1
),

final as (
    select
        m.platform,
        m.message_id,
        coalesce(m.resolved_conversation_id, c.root_id) as conversation_id,
        m.parent_id,
        m.author_id,
        m.author_handle,
        m.author_inbound,
        m.created_at,
        m.text,
        m.author_kind,
        m.department,
        m.account,
        m.account_platform
    from with_chain_conversation as m
    left join resolved_by_cycle as c
        on m.resolved_conversation_id is null
        and c.platform = m.platform
        and c.message_id = m.message_id
)

select * from final
