-- materialized: view
-- Mastodon statuses in the platform-neutral shape of int_messages_unioned.
-- A status is keyed by its uri (the same on every instance); its parent is found through
-- the instance-local in_reply_to_id of the copy it came with, before copies from several
-- instances are reduced to one. The conversation is the root of the reply chain
-- (int_reply_chain_conversations). Content is HTML: paragraphs and line breaks become
-- newlines, tags go, entities are decoded. Mentions come from the status's mentions.
with statuses as (
    select * from staging.stg_mastodon__statuses
),

with_parents as (
    select s.*, p.status_uri as parent_uri
    from statuses as s
    left join statuses as p
        on p.instance = s.instance and p.status_id = s.in_reply_to_id
),

final as (
    select
        'mastodon' as platform,
        status_uri as message_id,
        cast(null as varchar) as conversation_id,
        parent_uri as parent_id,
        author_address as author_id,
        author_address as author_handle,
        cast(null as boolean) as author_inbound,
        created_at,
        replace(replace(replace(replace(replace(replace(
            regexp_replace(
                regexp_replace(content_html, '</p>\s*<p>|<br\s*/?>', chr(10), 'g'),
                '<[^>]+>', '', 'g'
            ),
            '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&apos;', ''''),
            '&amp;', '&'
        ) as text,
        mentioned_addresses as mentioned_handles
    from with_parents
    -- one row per status: the copy whose parent was found, else the first loaded
    qualify row_number() over (
        partition by status_uri order by (parent_uri is null), load_id, instance
    ) = 1
)

select * from final
