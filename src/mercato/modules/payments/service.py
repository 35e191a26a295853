"""Money: payments of orders, refunds, and Stripe's webhook events (the one owner of them).

Provider calls never run inside a transaction that holds stock locks: the orders flow
writes the payment row (`open_payment`) in its checkout transaction, commits, then calls
`start_payment`, then records the answer with `record_start` in a new transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import signatures
from mercato.kernel.db import commit_midway
from mercato.kernel.errors import DomainError, NotFound
from mercato.kernel.orm import uuid7
from mercato.modules.integrations import get_integration_config
from mercato.modules.payments.models import Payment, Refund
from mercato.modules.payments.providers import (
    ManualProvider,
    PaymentProvider,
    PaymentRequest,
    ProviderNotConfigured,
    ProviderPayment,
    StripeCredentials,
    StripeProvider,
)
from mercato.modules.payments.schemas import PaymentRead
from mercato.settings import get_settings

STRIPE_TOLERANCE_S = 300


class BadSignature(DomainError):
    status, slug, title = 400, "bad-signature", "The Stripe-Signature header does not verify"


async def stripe_credentials(session: AsyncSession, tenant_id: uuid.UUID) -> StripeCredentials:
    """The tenant's Stripe integration if configured, else the deployment's settings."""
    config = await get_integration_config(session, tenant_id, "stripe")
    if config and config.get("secret_key"):
        return StripeCredentials(str(config["secret_key"]), config.get("webhook_secret"))
    settings = get_settings()
    if settings.stripe_secret_key is None:
        raise ProviderNotConfigured(
            "Stripe is not configured: add a stripe integration or set MERCATO_STRIPE_SECRET_KEY"
        )
    secret = settings.stripe_webhook_secret
    return StripeCredentials(
        settings.stripe_secret_key.get_secret_value(),
        None if secret is None else secret.get_secret_value(),
    )


async def provider_for(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> PaymentProvider:
    if name == "manual":
        return ManualProvider()
    return StripeProvider(await stripe_credentials(session, tenant_id))


# psycopg's placeholders: the checkout writes it with the order, in one pipeline.
OPEN_SQL = (
    "INSERT INTO payment (tenant_id, id, order_id, provider, status, amount, refunded_amount, "
    "currency) VALUES (%(tenant)s, %(id)s, %(order)s, %(provider)s, 'requires_payment', "
    "%(amount)s, 0, %(currency)s)"
)


@dataclass(frozen=True)
class PaymentOpening:
    """The payment row of a new order, not written yet: its caller runs `statement` with
    `params` in its own transaction (checkout: with the order insert, in one round trip),
    then `read` gives the row as written."""

    tenant_id: uuid.UUID
    order_id: uuid.UUID
    id: uuid.UUID
    provider: str
    amount: Decimal
    currency: str
    statement: str = OPEN_SQL

    @property
    def params(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "id": self.id,
            "order": self.order_id,
            "provider": self.provider,
            "amount": self.amount,
            "currency": self.currency,
        }

    def read(self, created_at: datetime) -> PaymentRead:
        """The row written; `created_at` is its transaction's `now()` (the column's default),
        which the order inserted in the same transaction also carries."""
        # Built from what was written: checkout is hot, and these values need no checking.
        return PaymentRead.model_construct(
            id=self.id,
            provider=self.provider,
            status="requires_payment",
            amount=self.amount,
            refunded_amount=Decimal("0.00"),
            currency=self.currency,
            provider_reference=None,
            client_secret=None,
            checkout_url=None,
            error=None,
            created_at=created_at,
        )


def open_payment(
    tenant_id: uuid.UUID, order_id: uuid.UUID, provider: str, amount: Decimal, currency: str
) -> PaymentOpening:
    """The payment row of a new order, before the provider is asked (see `PaymentOpening`)."""
    return PaymentOpening(tenant_id, order_id, uuid7(), provider, amount, currency)


async def start_payment(provider: PaymentProvider, request: PaymentRequest) -> ProviderPayment:
    """Ask the provider to collect the money (outside any transaction)."""
    return await provider.create(request)


async def record_start(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    payment_id: uuid.UUID,
    result: ProviderPayment | None,
    error: str | None = None,
) -> Payment:
    """Store what the provider answered (or why it failed) on the payment row."""
    payment = await session.get(Payment, (tenant_id, payment_id), with_for_update=True)
    if payment is None:
        raise NotFound("No such payment")
    if result is not None:
        payment.provider_reference = result.reference
        payment.client_secret = result.client_secret
        payment.checkout_url = result.checkout_url
        payment.error = None
        if payment.status == "requires_payment":
            payment.status = result.status
    else:
        payment.error = error
    await session.flush()
    return payment


async def payments_of_order(session: AsyncSession, order_id: uuid.UUID) -> list[Payment]:
    rows = await session.scalars(
        select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    )
    return list(rows.all())


async def refunds_of_order(session: AsyncSession, order_id: uuid.UUID) -> list[Refund]:
    rows = await session.scalars(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
    )
    return list(rows.all())


async def mark_succeeded(session: AsyncSession, payment: Payment) -> bool:
    """Record that the money arrived; False if it was recorded before."""
    if payment.status != "requires_payment":
        return False
    payment.status = "succeeded"
    payment.error = None
    await session.flush()
    return True


async def mark_failed(session: AsyncSession, payment: Payment, reason: str) -> None:
    if payment.status == "requires_payment":
        payment.error = reason[:500]
        await session.flush()


async def _count_refund(session: AsyncSession, payment: Payment, refund: Refund) -> Refund:
    """Store the refund row and count its amount on the payment."""
    session.add(refund)
    payment.refunded_amount = payment.refunded_amount + refund.amount
    payment.status = (
        "refunded" if payment.refunded_amount >= payment.amount else "partially_refunded"
    )
    await session.flush()
    await session.refresh(refund)
    return refund


async def refund_payment(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    payment: Payment,
    amount: Decimal,
    *,
    actor: str,
    reason: str | None,
) -> Refund:
    """Give `amount` back through the payment's provider and record it.

    The caller holds the order's row lock, so two refunds of one order cannot both pass
    the remaining-amount check. The provider's idempotency key is the refund's own id.
    """
    refund_id = uuid7()
    provider = await provider_for(session, tenant_id, payment.provider)
    reference = await provider.refund(
        payment.provider_reference, amount, payment.currency, refund_id
    )
    refund = Refund(
        tenant_id=tenant_id,
        id=refund_id,
        payment_id=payment.id,
        order_id=payment.order_id,
        amount=amount,
        provider_reference=reference,
        reason=reason,
        actor=actor,
    )
    return await _count_refund(session, payment, refund)


async def open_refund(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    payment: Payment,
    amount: Decimal,
    *,
    actor: str,
    reason: str | None,
    return_id: uuid.UUID,
) -> Refund:
    """Record a refund owed for a return, `pending`, without calling the provider.

    The caller holds the order's row lock and has checked the amount against what is
    left; the amount counts on the payment at once, so no later refund can take it
    again. `settle_refund` sends it after the caller's commit. `return_id` is unique: a
    return has at most one refund.
    """
    refund = Refund(
        tenant_id=tenant_id,
        id=uuid7(),
        payment_id=payment.id,
        order_id=payment.order_id,
        amount=amount,
        reason=reason,
        actor=actor,
        status="pending",
        return_id=return_id,
        attempts=0,
    )
    return await _count_refund(session, payment, refund)


async def settle_refund(
    session: AsyncSession, tenant_id: uuid.UUID, refund_id: uuid.UUID
) -> Refund | None:
    """Send a pending refund to its provider; the refund if this call settled it.

    Commits the session's transaction before the provider call, so no lock waits on the
    network. The provider's idempotency key is the refund's id: two senders racing (the
    request and the retry job) or a retry after a lost answer get Stripe's one refund.
    A failure is kept on the row (`error`, `attempts`) and the refund stays pending for
    the next attempt; it never raises for the provider.
    """
    refund = await session.get(Refund, (tenant_id, refund_id))
    if refund is None or refund.status != "pending":
        return None
    payment = await session.get(Payment, (tenant_id, refund.payment_id))
    if payment is None:
        return None
    reference, error = None, None
    try:
        provider = await provider_for(session, tenant_id, payment.provider)
        await commit_midway(session)
        reference = await provider.refund(
            payment.provider_reference, refund.amount, payment.currency, refund.id
        )
    except DomainError as exc:
        error = exc.detail
    locked = await session.get(
        Refund, (tenant_id, refund_id), with_for_update=True, populate_existing=True
    )
    if locked is None or locked.status != "pending":
        return None
    locked.attempts = locked.attempts + 1
    if error is not None:
        locked.error = str(error)[:500]
        await session.flush()
        return None
    locked.status, locked.provider_reference, locked.error = "succeeded", reference, None
    await session.flush()
    return locked


async def pending_refunds(session: AsyncSession, *, limit: int) -> list[uuid.UUID]:
    """The session tenant's refunds still waiting for their provider, oldest first."""
    rows = await session.scalars(
        select(Refund.id).where(Refund.status == "pending").order_by(Refund.id).limit(limit)
    )
    return list(rows.all())


def verify_stripe_event(raw: bytes, signature: str | None, secret: str | None) -> dict[str, Any]:
    """The event, if `Stripe-Signature` verifies on the raw body within 300 s; else 400."""
    if not secret:
        raise BadSignature("No Stripe webhook secret is configured for this tenant")
    if not signature or not signatures.verify(
        secret, signature, raw, tolerance_s=STRIPE_TOLERANCE_S
    ):
        raise BadSignature(
            "No v1 signature matches the body with the webhook secret within "
            f"{STRIPE_TOLERANCE_S} s of its timestamp"
        )
    try:
        event: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise BadSignature("The body is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise BadSignature("The body is not a Stripe event")
    return event


async def claim_stripe_event(
    session: AsyncSession, tenant_id: uuid.UUID, event_id: str, event_type: str
) -> bool:
    """True the first time an event id is seen; a redelivery answers False."""
    inserted = await session.scalar(
        text(
            "INSERT INTO stripe_event (tenant_id, event_id, type) VALUES (:tenant, :id, :type) "
            "ON CONFLICT DO NOTHING RETURNING true"
        ),
        {"tenant": tenant_id, "id": event_id[:255], "type": event_type[:100]},
    )
    return bool(inserted)


async def payment_for_stripe_object(
    session: AsyncSession, tenant_id: uuid.UUID, obj: dict[str, Any]
) -> Payment | None:
    """The payment a PaymentIntent or Checkout Session belongs to (by our metadata, else by
    reference), locked; its PaymentIntent id is remembered for refunds."""
    metadata = obj.get("metadata") or {}
    payment: Payment | None = None
    payment_id = metadata.get("payment_id") if isinstance(metadata, dict) else None
    if isinstance(payment_id, str):
        try:
            payment = await session.get(
                Payment, (tenant_id, uuid.UUID(payment_id)), with_for_update=True
            )
        except ValueError:
            payment = None
    if payment is None and isinstance(obj.get("id"), str):
        payment = await session.scalar(
            select(Payment)
            .where(
                Payment.tenant_id == tenant_id,
                Payment.provider == "stripe",
                Payment.provider_reference == obj["id"],
            )
            .with_for_update()
        )
    if payment is None:
        return None
    intent = obj.get("payment_intent") if obj.get("object") == "checkout.session" else obj.get("id")
    if isinstance(intent, str) and intent.startswith("pi_"):
        await session.execute(
            update(Payment)
            .where(Payment.tenant_id == tenant_id, Payment.id == payment.id)
            .values(provider_reference=intent)
        )
        payment.provider_reference = intent
    return payment
