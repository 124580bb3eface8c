-- One row per customer conversation and customer who wrote in it.
--
-- A customer is an author on one platform: the same person on X and Reddit is two.
with

customer_messages as (
    select platform, conversation_id, author_id
    from intermediate.int_conversation_messages
    where author_kind = 'customer'
),

final as (
    select distinct platform, conversation_id, author_id
    from customer_messages
)

select * from final
