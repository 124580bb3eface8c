-- The messages inside the build window, each with its place in its conversation.
--
-- Everything measured is measured on these rows: a conversation that straddles the window
-- edge counts only the messages inside it.
with

messages as (
    select * from intermediate.int_messages
),

build_window as (
    select * from config.build_window
),

windowed as (
    select m.*
    from messages as m
    cross join build_window as w
    where (w.window_start is null or m.created_at >= w.window_start)
        and (w.window_end is null or m.created_at < w.window_end)
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
    from windowed
)

select * from final
