-- materialized: view
-- Every message ever loaded, with the kind of its author and the conversation it belongs to.
--
-- A view: stored, it would copy every message once more on every build. Builds read the
-- window out of it (int_conversation_messages); a data engineer reads all of it.
with

messages as (
    select * from intermediate.int_messages_unioned
),

-- sources without a conversation id (TWCS imports) have one resolved from reply links
reply_chain_conversations as (
    select * from intermediate.int_reply_chain_conversations
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

final as (
    select
        m.platform,
        m.message_id,
        coalesce(m.conversation_id, r.conversation_id) as conversation_id,
        m.parent_id,
        m.author_id,
        m.author_handle,
        m.author_inbound,
        m.created_at,
        m.text,
        m.mentioned_handles,
        m.author_kind,
        m.department,
        m.account,
        m.account_platform
    from authored as m
    left join reply_chain_conversations as r
        on m.conversation_id is null
        and r.platform = m.platform
        and r.message_id = m.message_id
)

select * from final
