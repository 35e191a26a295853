"""Orders: checkout (reservation + order + payment), the order state machine, refunds,
Stripe's webhook, and the reservation expiry job. Emits `order.created`, `order.paid`,
`order.fulfilled`, `order.completed`, `order.cancelled`, `order.refunded`,
`order.partially_refunded` with `{order_id, status, total, currency, email, customer_id}`.
"""
