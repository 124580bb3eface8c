-- The conversation of every message its source names none for (TWCS imports), from its
-- reply links: the message at the top of the chain (whose parent is not in the data) names
-- the conversation. Resolution runs over every message loaded, not the build window, so a
-- conversation keeps the same id whichever window is measured. Sources that name their
-- conversations (X, Reddit) put no rows here.
with recursive

needs_conversation as (
    select platform, message_id, parent_id
    from intermediate.int_messages_unioned
    where conversation_id is null
),

-- Only the parents of those messages are looked up among all messages: with nothing to
-- resolve, the semi join is empty and the scan stops at once.
parents as (
    select p.platform, p.message_id, p.conversation_id
    from intermediate.int_messages_unioned as p
    semi join needs_conversation as n
        on n.platform = p.platform and n.parent_id = p.message_id
),

-- A reply chain starts where the parent is missing from the data (that message is the
-- root) or where the parent already carries a conversation id (the chain joins it).
chain_starts as (
    select
        n.platform,
        n.message_id,
        coalesce(p.conversation_id, n.message_id) as resolved_conversation_id
    from needs_conversation as n
    left join parents as p
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
    select n.*, r.resolved_conversation_id
    from needs_conversation as n
    left join resolved_by_chain as r
        on r.platform = n.platform and r.message_id = n.message_id
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
        coalesce(m.resolved_conversation_id, c.root_id) as conversation_id
    from with_chain_conversation as m
    left join resolved_by_cycle as c
        on m.resolved_conversation_id is null
        and c.platform = m.platform
        and c.message_id = m.message_id
)

select * from final
