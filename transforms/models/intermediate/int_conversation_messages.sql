-- The messages inside the build window, each with its place in its conversation.
--
-- Everything measured is measured on these rows: a conversation that straddles the window
-- edge counts only the messages inside it. The window is compared with constants
-- (getvariable, set by the build), which DuckDB pushes through the int_messages view into
-- each staging table's scan: row groups outside the window are never read, so a night's
-- build reads the night, not the history.
--
-- Only the columns the metrics read: every row is sorted into its conversation with all
-- of them. The text is left to int_messages (department_pairs reads mentions there).
with

messages as (
    select
        platform,
        message_id,
        conversation_id,
        author_id,
        created_at,
        author_kind,
        department,
        account
    from intermediate.int_messages
    where created_at >= getvariable('build_window_start')
        and created_at < getvariable('build_window_end')
),

final as (
    select
        *,
        -- X and TWCS ids are numbers written as text: '9' comes before '10'
        row_number() over (
            partition by platform, conversation_id
            order by created_at, try_cast(message_id as hugeint) nulls last, message_id
        ) as position,
        bool_or(author_kind = 'customer') over (
            partition by platform, conversation_id
        ) as in_customer_conversation
    from messages
)

select * from final
