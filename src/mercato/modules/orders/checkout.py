"""Checkout: cart → payment row → reserved stock → pending order, in the request's own
session and one statement per step.

The steps (`place_order`), one round trip each: claim the cart and read its lines, rates,
addresses and discount code (and the code's terms); redeem the discount code (discounts'
`redeem`: its row lock makes concurrent checkouts count a limited code exactly as often
as it allows); lock the needed stock rows (sorted), reserve and append the ledger rows;
then, in one round trip (a pipeline of statements), insert the order, its lines and its
first history row, insert the payment row (payments' `open_payment`), enqueue
`order.created`'s delivery jobs and commit. Lock order: cart, discount code, stock rows.
The webhook subscribers' interest in the event is asked before the reservation, so the hot
stock rows stay locked only for that one pipelined round trip. A refused discount code is
refused before any stock row is locked.

`Idempotency-Key`: the same key with the same body answers the same order, with another
body 422. The key is not looked up first (one round trip fewer on every checkout): a
repeated request finds its cart ordered, and only then is the earlier order read; a key
reused with another cart is found taken by the order insert. Two concurrent requests with
one key race for the same cart row: the loser waits on the winner's row lock, finds the
cart ordered, looks the key up (a new statement sees the committed order) and answers that
order. A refusal (404, 409) of a request whose key was used with another body is 422, as
if the key had been looked up first. The order insert raises on a taken key (the unique
constraint), so the pipeline's COMMIT is skipped and nothing is committed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import commit_midway, violates
from mercato.kernel.errors import DomainError, ValidationFailed
from mercato.kernel.events import ask_interest, deliveries
from mercato.kernel.jobs import execute_deferring
from mercato.kernel.orm import uuid7
from mercato.kernel.security import TenantPrincipal
from mercato.modules.cart import CartRead, claim_for_checkout
from mercato.modules.customers import AddressRead, checkout_addresses, stored_address
from mercato.modules.discounts import customer_key, redeem, split
from mercato.modules.inventory import Allocation, InsufficientStock, reserve_stock
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
    order_terms,
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
# Another order holding the Idempotency-Key fails the insert (IDEMPOTENCY_CONSTRAINT). The
# inserts from a SELECT return a column for Citus (see inventory's RESERVE_SQL). psycopg's
# placeholders: it runs on the driver, pipelined with the `order.created` enqueue.
IDEMPOTENCY_CONSTRAINT = "uq_sales_order_tenant_id_idempotency_key"
INSERT_ORDER_SQL = (
    "WITH o AS (INSERT INTO sales_order (tenant_id, id, cart_id, customer_id, user_id, email, "
    "status, currency, subtotal, tax, shipping, total, refunded_amount, payment_provider, "
    "idempotency_key, request_hash, stock_state, reserved_until, shipping_address, "
    "billing_address, discount_code, discount_total) VALUES (%(tenant)s, %(id)s, %(cart)s, "
    "%(customer)s, %(user_id)s, %(email)s, 'pending', %(currency)s, %(subtotal)s, %(tax)s, "
    "%(shipping)s, %(total)s, 0, %(provider)s, %(key)s, %(hash)s, 'reserved', "
    "%(reserved_until)s, CAST(%(shipping_address)s AS jsonb), "
    "CAST(%(billing_address)s AS jsonb), %(discount_code)s, %(discount_total)s) "
    "RETURNING created_at), "
    "i AS (INSERT INTO order_item (tenant_id, order_id, product_id, location_code, name, "
    "unit_price, quantity, discount) SELECT %(tenant)s, %(id)s, v.* FROM unnest("
    "CAST(%(products)s AS text[]), CAST(%(locations)s AS text[]), CAST(%(names)s AS text[]), "
    "CAST(%(prices)s AS numeric[]), CAST(%(quantities)s AS int[]), "
    "CAST(%(discounts)s AS numeric[])) AS v RETURNING 1), "
    "h AS (INSERT INTO order_history (tenant_id, id, order_id, from_status, to_status, actor) "
    "SELECT %(tenant)s, %(history_id)s, %(id)s, NULL, 'pending', %(actor)s RETURNING 1) "
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


async def _addresses(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    body: CheckoutCreate,
    cart: CartRead,
    customer_id: uuid.UUID | None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The order's (shipping, billing) addresses: see `place_order`."""
    shipping = stored_address(body.shipping_address) or _dumped(cart.shipping_address)
    billing = stored_address(body.billing_address) or _dumped(cart.billing_address)
    if (shipping is None or billing is None) and customer_id is not None:
        default_shipping, default_billing = await checkout_addresses(
            session, tenant_id, customer_id
        )
        shipping = shipping or default_shipping
        billing = billing or default_billing
    return shipping, billing or shipping


def _dumped(address: AddressRead | None) -> dict[str, Any] | None:
    return None if address is None else address.model_dump(mode="json")


def _address_read(address: dict[str, Any] | None) -> AddressRead | None:
    return None if address is None else AddressRead.model_construct(**address)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value)


def _allocation_discounts(cart: CartRead, allocations: Sequence[Allocation]) -> list[Decimal]:
    """Each allocation's share of its cart line's discount, split by quantity to the cent
    (discounts' `split`), so the rows of a line add up to the line's discount."""
    shares: list[Decimal] = [Decimal("0.00")] * len(allocations)
    for line in cart.items:
        rows = [i for i, a in enumerate(allocations) if a.product_id == line.product_id]
        parts = split(line.discount, [allocations[i].quantity for i in rows])
        for i, part in zip(rows, parts, strict=True):
            shares[i] = part
    return shares


async def place_order(
    session: AsyncSession,
    principal: TenantPrincipal,
    body: CheckoutCreate,
    idempotency_key: str | None,
    customer_id: uuid.UUID | None,
) -> Placed:
    """Reserve the cart's stock and create the pending order and its payment row.

    404 unknown cart; 409 `insufficient-stock` (with the short items), `cart-not-active`,
    `empty-cart`, `items-unavailable`, `checkout-too-large`, `discount-exhausted`,
    `discount-not-applicable`; 422 `idempotency-key-reused`, `unknown-discount-code`.

    Addresses: the body's, else the cart's, else the customer's address-book defaults;
    billing falls back to shipping. They are copied onto the order and never change.

    Failure halfway: every step runs in the caller's transaction, which the last one (the
    pipelined order insert) commits. A refusal, an error or a lost connection at any step
    before that commit rolls the whole checkout back — the cart is active again, no
    payment row, nothing reserved and no ledger row, no order, no event, no use of the
    discount code — so a retry (with the same Idempotency-Key or not) starts afresh.
    """
    tenant_id = principal.tenant_id
    digest = request_hash(body, customer_id)
    try:
        cart = await claim_for_checkout(
            session, principal, body.cart_id, customer_id, body.discount_code
        )
    except DomainError:
        # An ordered cart is how a repeated request shows: answer the order it created.
        replay = await _earlier_order(session, tenant_id, idempotency_key, digest)
        if replay is not None:
            return replay
        raise
    assert cart.currency is not None
    order_id = uuid7()
    order_customer = customer_id or cart.customer_id
    shipping_address, billing_address = await _addresses(
        session, tenant_id, body, cart, order_customer
    )
    await ask_interest(session, tenant_id)  # before the stock locks, not while holding them
    if cart.discount_code is not None:
        try:
            await redeem(
                session,
                tenant_id,
                cart.discount_code,
                customer_key(order_customer, str(body.email)),
            )
        except DomainError:
            # As for a stock refusal below: a used key is 422, the refusal otherwise.
            await session.rollback()
            await _earlier_order(session, tenant_id, idempotency_key, digest)
            raise
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
    discounts = _allocation_discounts(cart, allocations)
    reserved_until = datetime.now(UTC) + reservation_ttl(principal)
    # The event's delivery jobs go with the order insert: one round trip, one transaction.
    jobs = await deliveries(
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
            **order_terms(
                shipping_address, billing_address, cart.discount_code, cart.discount_total
            ),
            items=[
                {
                    "product_id": a.product_id,
                    "quantity": a.quantity,
                    "location_code": a.location_code,
                    "discount": str(discount),
                }
                for a, discount in zip(allocations, discounts, strict=True)
            ],
        ),
    )
    opening = open_payment(tenant_id, order_id, body.payment_provider, cart.total, cart.currency)
    order_row = {
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
        "discounts": discounts,
        "shipping_address": _json(shipping_address),
        "billing_address": _json(billing_address),
        "discount_code": cart.discount_code,
        "discount_total": cart.discount_total,
        "history_id": uuid7(),
        "actor": principal.actor,
    }
    try:
        inserted, _ = await execute_deferring(
            session,
            [(INSERT_ORDER_SQL, order_row), (opening.statement, opening.params)],
            jobs,
            commit=True,
        )
    except IntegrityError as exc:
        if not violates(exc, IDEMPOTENCY_CONSTRAINT):
            raise
        # Another order has the key; it came from another cart (this one was active), so
        # from another body. Nothing was committed: the rollback drops the jobs too.
        raise IdempotencyKeyReused(
            "The Idempotency-Key was first used with a different request body"
        ) from None
    created_at: datetime = inserted[0][0]
    payment = opening.read(created_at)
    # model_construct: every value was computed or validated above; checkout is hot.
    order = OrderRead.model_construct(
        id=order_id,
        status="pending",
        total=cart.total,
        currency=cart.currency,
        subtotal=cart.subtotal,
        discount_code=cart.discount_code,
        discount_total=cart.discount_total,
        tax=cart.tax,
        shipping=cart.shipping,
        refunded_amount=Decimal("0.00"),
        shipping_address=_address_read(shipping_address),
        billing_address=_address_read(billing_address),
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
                discount=discount,
            )
            for a, discount in zip(allocations, discounts, strict=True)
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
        # Given, not defaulted: model_construct inspects each default factory's signature.
        shipments=[],
        returns=[],
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
    request's one transaction. With Stripe that transaction is committed (by `place_order`,
    or here for a replayed order) before Stripe is called, so no stock lock waits on the
    network, and Stripe's answer (or why it failed) is stored in a second short
    transaction of the same session.

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
