"""Payments: providers (`manual`, `stripe`), payment rows, refunds, Stripe webhook events.

Public surface for the orders flow: `open_payment` (a `PaymentOpening`), `provider_for`,
`start_payment`, `record_start`, `mark_succeeded`, `mark_failed`, `refund_payment`,
`open_refund`, `settle_refund`, `pending_refunds`, `payments_of_order`, `refunds_of_order`,
`stripe_credentials`, `verify_stripe_event`, `claim_stripe_event`,
`payment_for_stripe_object`, and the shapes `PaymentRead`, `RefundRead`, `HostedCheckout`.
The demo seed writes the payments of its order history with `seed_payments`.
"""

from mercato.modules.payments.providers import (
    PaymentProviderError,
    PaymentRequest,
    ProviderNotConfigured,
)
from mercato.modules.payments.schemas import HostedCheckout, PaymentRead, RefundRead
from mercato.modules.payments.seeding import seed_payments
from mercato.modules.payments.service import (
    BadSignature,
    PaymentOpening,
    claim_stripe_event,
    mark_failed,
    mark_succeeded,
    open_payment,
    open_refund,
    payment_for_stripe_object,
    payments_of_order,
    pending_refunds,
    provider_for,
    record_start,
    refund_payment,
    refunds_of_order,
    settle_refund,
    start_payment,
    stripe_credentials,
    verify_stripe_event,
)

__all__ = [
    "BadSignature",
    "HostedCheckout",
    "PaymentOpening",
    "PaymentProviderError",
    "PaymentRead",
    "PaymentRequest",
    "ProviderNotConfigured",
    "RefundRead",
    "claim_stripe_event",
    "mark_failed",
    "mark_succeeded",
    "open_payment",
    "open_refund",
    "payment_for_stripe_object",
    "payments_of_order",
    "pending_refunds",
    "provider_for",
    "record_start",
    "refund_payment",
    "refunds_of_order",
    "seed_payments",
    "settle_refund",
    "start_payment",
    "stripe_credentials",
    "verify_stripe_event",
]
