"""Checkout: cart → payment row → reserved stock → pending order, in the request's own
session and one statement per step.

The steps (`place_order`), one round trip each: claim the cart and read its lines and
rates; insert the payment row; lock the needed stock rows (sorted), reserve and append the
ledger rows; insert the order, its lines and its first history row; enqueue
`order.created`. What needs no stock lock comes before the reservation (the payment row,
the webhook subscribers' interest in the event), so the hot stock rows stay locked only for
the order insert, the event's enqueue and the commit.

`Idempotency-Key`: the same key with the same body answers the same order, with another
body 422. The key is not looked up first (one round trip fewer on every checkout): a
repeated request finds its cart ordered, and only then is the earlier order read; a key
reused with another cart is found taken by the order insert. Two concurrent requests with
one key race for the same cart row: the loser waits on the winner's row lock, finds the
cart ordered, looks the key up (a new statement sees the committed order) and answers that
order. A refusal (404, 409) of a request whose key was used with another body is 422, as
if the key had been looked up first.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import commit_midway
from mercato.kernel.errors import DomainError, ValidationFailed
from mercato.kernel.events import ask_interest, emit
from mercato.kernel.orm import uuid7
from mercato.kernel.security import TenantPrincipal
from mercato.modules.cart import claim_for_checkout
from mercato.modules.inventory import InsufficientStock, reserve_stock
from mercato.modules.orders.schemas import (
    CheckoutCreate,
    CheckoutResult,
    OrderHistoryRead,
    OrderItemRead,
    OrderRead,
)
from mercato.modules.orders.service import (
    allowed_transitions,
    event_payload,
    load_order,
    read_order,
)
from mercato.modules.orders.storefront import reservation_ttl
from mercato.modules.payments import (
    PaymentProviderError,
    PaymentRead,
    PaymentRequest,
    open_payment,
    provider_for,
    record_start,
    start_payment,
)


class IdempotencyKeyReused(ValidationFailed):
    slug, title = "idempotency-key-reused", "This Idempotency-Key was used with another body"


@dataclass(frozen=True)
class Placed:
    result: CheckoutResult
    replayed: bool


IDEMPOTENCY_SQL = text(
    "SELECT id, request_hash FROM sales_order WHERE tenant_id = :tenant AND idempotency_key = :key"
)
# No row back: another order holds the Idempotency-Key (then nothing was inserted). The
# inserts from a SELECT return a column for Citus (see inventory's RESERVE_SQL).
INSERT_ORDER_SQL = text(
    "WITH o AS (INSERT INTO sales_order (tenant_id, id, cart_id, customer_id, user_id, email, "
    "status, currency, subtotal, tax, shipping, total, refunded_amount, payment_provider, "
    "idempotency_key, request_hash, stock_state, reserved_until) VALUES (:tenant, :id, :cart, "
    ":customer, :user_id, :email, 'pending', :currency, :subtotal, :tax, :shipping, :total, 0, "
    ":provider, :key, :hash, 'reserved', :reserved_until) "
    "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING created_at), "
    "i AS (INSERT INTO order_item (tenant_id, order_id, product_id, location_code, name, "
    "unit_price, quantity) SELECT :tenant, :id, v.* FROM unnest(CAST(:products AS text[]), "
    "CAST(:locations AS text[]), CAST(:names AS text[]), CAST(:prices AS numeric[]), "
    "CAST(:quantities AS int[])) AS v WHERE EXISTS (SELECT FROM o) RETURNING 1), "
    "h AS (INSERT INTO order_history (tenant_id, id, order_id, from_status, to_status, actor) "
    "SELECT :tenant, :history_id, :id, NULL, 'pending', :actor WHERE EXISTS (SELECT FROM o) "
    "RETURNING 1) "
    "SELECT created_at FROM o"
)


def request_hash(body: CheckoutCreate, customer_id: uuid.UUID | None) -> bytes:
    canonical = json.dumps(
        {"body": body.model_dump(mode="json"), "customer": str(customer_id)}, sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).digest()


async def _replay(session: AsyncSession, tenant_id: uuid.UUID, order_id: uuid.UUID) -> Placed:
    order = await load_order(session, tenant_id, order_id)
    full = await read_order(session, order)
    return Placed(CheckoutResult(order=full, payment=full.payments[-1]), replayed=True)


async def _earlier_order(
    session: AsyncSession, tenant_id: uuid.UUID, key: str | None, digest: bytes
) -> Placed | None:
    """The order an earlier request with this key created, if any; 422 for another body."""
    if key is None:
        return None
    found = (await session.execute(IDEMPOTENCY_SQL, {"tenant": tenant_id, "key": key})).first()
    if found is None:
        return None
    if bytes(found[1] or b"") != digest:
        raise IdempotencyKeyReused(
            "The Idempotency-Key was first used with a different request body"
        )
    return await _replay(session, tenant_id, found[0])


async def place_order(
    session: AsyncSession,
    principal: TenantPrincipal,
    body: CheckoutCreate,
    idempotency_key: str | None,
    customer_id: uuid.UUID | None,
) -> Placed:
    """Reserve the cart's stock and create the pending order and its payment row.

    404 unknown cart; 409 `insufficient-stock` (with the short items), `cart-not-active`,
    `empty-cart`, `items-unavailable`, `checkout-too-large`; 422 `idempotency-key-reused`.

    Failure halfway: every step runs in the caller's transaction, and none is committed
    here. A refusal, an error or a lost connection at any step rolls the whole checkout
    back — the cart is active again, no payment row, nothing reserved and no ledger row,
    no order, no event — so a retry (with the same Idempotency-Key or not) starts afresh.
    """
    tenant_id = principal.tenant_id
    digest = request_hash(body, customer_id)
    try:
        cart = await claim_for_checkout(session, principal, body.cart_id, customer_id)
    except DomainError:
        # An ordered cart is how a repeated request shows: answer the order it created.
        replay = await _earlier_order(session, tenant_id, idempotency_key, digest)
        if replay is not None:
            return replay
        raise
    assert cart.currency is not None
    order_id = uuid7()
    payment = await open_payment(
        session, tenant_id, order_id, body.payment_provider, cart.total, cart.currency
    )
    await ask_interest(session, tenant_id)  # before the stock locks, not while holding them
    try:
        allocations = await reserve_stock(
            session,
            tenant_id,
            {line.product_id: line.quantity for line in cart.items},
            reference=f"order:{order_id}",
            actor=principal.actor,
            prefer_location=cart.location_code,
        )
    except InsufficientStock:
        # Roll back first: the scarce rows are unlocked before the key lookup. The claimed
        # cart was active, so no earlier order has this body: a used key is 422.
        await session.rollback()
        await _earlier_order(session, tenant_id, idempotency_key, digest)
        raise
    lines = {line.product_id: line for line in cart.items}
    reserved_until = datetime.now(UTC) + reservation_ttl(principal)
    order_customer = customer_id or cart.customer_id
    created_at: datetime | None = await session.scalar(
        INSERT_ORDER_SQL,
        {
            "tenant": tenant_id,
            "id": order_id,
            "cart": cart.id,
            "customer": order_customer,
            "user_id": body.user_id,
            "email": str(body.email),
            "currency": cart.currency,
            "subtotal": cart.subtotal,
            "tax": cart.tax,
            "shipping": cart.shipping,
            "total": cart.total,
            "provider": body.payment_provider,
            "key": idempotency_key,
            "hash": digest,
            "reserved_until": reserved_until,
            "products": [a.product_id for a in allocations],
            "locations": [a.location_code for a in allocations],
            "names": [lines[a.product_id].name for a in allocations],
            "prices": [lines[a.product_id].unit_price for a in allocations],
            "quantities": [a.quantity for a in allocations],
            "history_id": uuid7(),
            "actor": principal.actor,
        },
    )
    if created_at is None:
        # Another order has the key; it came from another cart (this one was active), so
        # from another body. Raising rolls this checkout back.
        raise IdempotencyKeyReused(
            "The Idempotency-Key was first used with a different request body"
        )
    await emit(
        session,
        tenant_id,
        "order.created",
        event_payload(
            tenant_id,
            order_id,
            status="pending",
            total=cart.total,
            currency=cart.currency,
            email=str(body.email),
            customer_id=order_customer,
            items=[
                {
                    "product_id": a.product_id,
                    "quantity": a.quantity,
                    "location_code": a.location_code,
                }
                for a in allocations
            ],
        ),
    )
    # model_construct: every value was computed or validated above; checkout is hot.
    order = OrderRead.model_construct(
        id=order_id,
        status="pending",
        total=cart.total,
        currency=cart.currency,
        subtotal=cart.subtotal,
        tax=cart.tax,
        shipping=cart.shipping,
        refunded_amount=Decimal("0.00"),
        email=str(body.email),
        customer_id=order_customer,
        cart_id=cart.id,
        payment_provider=body.payment_provider,
        stock_state="reserved",
        reserved_until=reserved_until,
        created_at=created_at,
        updated_at=created_at,
        items=[
            OrderItemRead.model_construct(
                product_id=a.product_id,
                location_code=a.location_code,
                name=lines[a.product_id].name,
                unit_price=lines[a.product_id].unit_price,
                quantity=a.quantity,
                line_total=lines[a.product_id].unit_price * a.quantity,
            )
            for a in allocations
        ],
        history=[
            OrderHistoryRead.model_construct(
                from_status=None,
                to_status="pending",
                actor=principal.actor,
                note=None,
                created_at=created_at,
            )
        ],
        payments=[payment],
        refunds=[],
        allowed_transitions=allowed_transitions("pending"),
    )
    return Placed(CheckoutResult.model_construct(order=order, payment=payment), replayed=False)


async def checkout(
    session: AsyncSession,
    principal: TenantPrincipal,
    body: CheckoutCreate,
    idempotency_key: str | None,
    customer_id: uuid.UUID | None,
) -> Placed:
    """Place the order, then (Stripe) create the PaymentIntent or Checkout Session.

    All in the request's session. The manual provider needs no call: its checkout is the
    request's one transaction. With Stripe that transaction is committed before Stripe is
    called, so no stock lock waits on the network, and Stripe's answer (or why it failed)
    is stored in a second short transaction of the same session.

    Failure halfway (Stripe): once the first commit is done, the order is pending with its
    stock reserved until `reserved_until` and its payment row has no provider reference.
    If Stripe fails, or the process dies before the answer is stored, a retry with the
    same Idempotency-Key resumes at the Stripe call (Stripe's own idempotency key is our
    payment id, so no second PaymentIntent); without a retry the expiry job cancels the
    order and releases the stock.
    """
    if body.payment_provider == "manual":
        return await place_order(session, principal, body, idempotency_key, customer_id)
    tenant_id = principal.tenant_id
    provider = await provider_for(session, tenant_id, body.payment_provider)
    placed = await place_order(session, principal, body, idempotency_key, customer_id)
    payment = placed.result.payment
    if payment.provider_reference is not None or payment.status != "requires_payment":
        return placed
    await commit_midway(session)
    order = placed.result.order
    request = PaymentRequest(
        payment_id=payment.id,
        order_id=order.id,
        tenant_id=tenant_id,
        amount=order.total,
        currency=order.currency,
        email=order.email,
        success_url=str(body.hosted_checkout.success_url) if body.hosted_checkout else None,
        cancel_url=str(body.hosted_checkout.cancel_url) if body.hosted_checkout else None,
    )
    try:
        started, error = await start_payment(provider, request), None
    except PaymentProviderError as exc:
        started, error = None, exc.detail
    stored = PaymentRead.model_validate(
        await record_start(session, tenant_id, payment.id, started, error)
    )
    if error is not None:
        await commit_midway(session)  # keep the reason on the payment; the request fails
        raise PaymentProviderError(
            f"{error}. The order {order.id} is reserved; retry with the same Idempotency-Key",
            order_id=str(order.id),
        )
    order.payments = [stored]
    return Placed(CheckoutResult(order=order, payment=stored), replayed=placed.replayed)
