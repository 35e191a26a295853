"""`{T}/checkout`, `{T}/orders` (with shipments and returns) and Stripe's webhook
`POST /api/v1/webhooks/stripe/{tid}`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse

from mercato.kernel.db import commit_midway
from mercato.kernel.deps import DbSession
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.kernel.timestamps import Timestamp
from mercato.modules.customers import CustomerToken, require_customer, resolve_customer
from mercato.modules.identity import require
from mercato.modules.orders import checkout as checkout_flow
from mercato.modules.orders import fulfilment, returns, service, storefront
from mercato.modules.orders.fulfilment_reads import returns_of_order, shipments_of_order
from mercato.modules.orders.schemas import (
    CheckoutCreate,
    CheckoutResult,
    DeliveryCreate,
    OrderRead,
    OrderStatus,
    OrderSummary,
    RefundCreate,
    ReturnCreate,
    ReturnRead,
    ShipmentCreate,
    ShipmentRead,
    TransitionCreate,
)
from mercato.modules.orders.stripe_events import receive_stripe_webhook

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["orders"])
webhook_router = APIRouter(prefix="/api/v1/webhooks", tags=["payments"])
Reader = Annotated[TenantPrincipal, require(Permission.ORDERS_READ)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Same key and body: the same order; same key, other body: 422",
    ),
]


@router.post("/checkout", status_code=status.HTTP_201_CREATED, response_model=CheckoutResult)
async def checkout(
    body: CheckoutCreate,
    principal: Annotated[TenantPrincipal, require(Permission.CHECKOUT_WRITE)],
    session: DbSession,
    idempotency_key: IdempotencyKey = None,
    token: CustomerToken = None,
) -> Response:
    """Reserve the cart's stock and open a pending order with its payment.

    409 `insufficient-stock` when the stock cannot be reserved (nothing changes); 403
    `payment-provider-not-allowed` for `manual` with a publishable key.
    """
    storefront.check_payment_provider(principal, body.payment_provider)
    customer = await resolve_customer(session, token)
    placed = await checkout_flow.checkout(
        session, principal, body, idempotency_key, None if customer is None else customer.id
    )
    # Built and checked once by the service; serialised here without a second validation.
    return Response(placed.result.model_dump_json(), status_code=201, media_type="application/json")


@router.get("/orders", response_model=Page[OrderSummary])
async def list_orders(
    principal: Reader,
    session: DbSession,
    status: OrderStatus | None = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    created_from: Timestamp | None = None,
    created_to: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[OrderSummary]:
    rows, next_cursor = await service.list_orders(
        session,
        principal,
        status=status,
        email=email,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
        cursor=cursor,
    )
    return Page[OrderSummary](data=[service.summary(r) for r in rows], next_cursor=next_cursor)


@router.get("/customers/me/orders", response_model=Page[OrderSummary])
async def my_orders(
    principal: Annotated[TenantPrincipal, require(Permission.CHECKOUT_WRITE)],
    session: DbSession,
    token: CustomerToken = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[OrderSummary]:
    """The logged-in shopper's orders (`X-Customer-Token`), newest first."""
    customer = require_customer(await resolve_customer(session, token))
    rows = await service.orders_of_customer(session, customer.id, limit=limit)
    return Page[OrderSummary](data=[service.summary(r) for r in rows])


@router.get("/orders/{order_id}", response_model=OrderRead)
async def get_order(order_id: uuid.UUID, principal: Reader, session: DbSession) -> OrderRead:
    """The order with `status`, `items`, `history`, payments and refunds."""
    return await service.read_order(session, await service.get_order(session, principal, order_id))


@router.post("/orders/{order_id}/transitions", response_model=OrderRead)
async def transition_order(
    order_id: uuid.UUID,
    body: TransitionCreate,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
) -> OrderRead:
    """Move the order along its state machine; 409 for a forbidden transition."""
    order = await service.transition(session, principal, order_id, body)
    return await service.read_order(session, order)


@router.post("/orders/{order_id}/refunds", response_model=OrderRead)
async def refund_order(
    order_id: uuid.UUID,
    body: RefundCreate,
    principal: Annotated[TenantPrincipal, require(Permission.REFUNDS_WRITE)],
    session: DbSession,
) -> OrderRead:
    """Refund all (no `amount`) or part of a paid order; step-up required."""
    order = await service.refund(session, principal, order_id, body)
    return await service.read_order(session, order)


@router.post(
    "/orders/{order_id}/shipments", status_code=status.HTTP_201_CREATED, response_model=ShipmentRead
)
async def create_shipment(
    order_id: uuid.UUID,
    body: ShipmentCreate,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
) -> ShipmentRead:
    """Ship units of a paid order from one location; the order becomes partially fulfilled
    or fulfilled. 409 beyond what is left to ship, or without the units at that location."""
    _, shipment = await fulfilment.create_shipment(session, principal, order_id, body)
    return shipment


@router.get("/orders/{order_id}/shipments", response_model=Page[ShipmentRead])
async def list_shipments(
    order_id: uuid.UUID, principal: Reader, session: DbSession
) -> Page[ShipmentRead]:
    order = await service.get_order(session, principal, order_id)
    return Page[ShipmentRead](data=await shipments_of_order(session, order.id))


@router.post("/orders/{order_id}/shipments/{shipment_id}/delivered", response_model=ShipmentRead)
async def deliver_shipment(
    order_id: uuid.UUID,
    shipment_id: uuid.UUID,
    body: DeliveryCreate,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
) -> ShipmentRead:
    """Record the parcel's delivery; 409 the second time."""
    return await fulfilment.mark_delivered(session, principal, order_id, shipment_id, body)


@router.post(
    "/orders/{order_id}/returns", status_code=status.HTTP_201_CREATED, response_model=ReturnRead
)
async def create_return(
    order_id: uuid.UUID,
    body: ReturnCreate,
    principal: Annotated[TenantPrincipal, require(Permission.REFUNDS_WRITE)],
    session: DbSession,
) -> ReturnRead:
    """Take shipped units back (restocked where asked) and refund them; step-up required.

    The return is committed before the provider is asked: if the provider fails, the
    answer is still 201 with `refund.status` `pending` and its `error`, and a job sends it.
    """
    record, refund_id = await returns.create_return(session, principal, order_id, body)
    if refund_id is not None:
        await commit_midway(session)
        await returns.send_refund(session, principal.tenant_id, refund_id)
    return next(r for r in await returns_of_order(session, order_id) if r.id == record.id)


@router.get("/orders/{order_id}/returns", response_model=Page[ReturnRead])
async def list_returns(
    order_id: uuid.UUID, principal: Reader, session: DbSession
) -> Page[ReturnRead]:
    order = await service.get_order(session, principal, order_id)
    return Page[ReturnRead](data=await returns_of_order(session, order.id))


@webhook_router.post("/stripe/{tenant_id}")
async def stripe_webhook(
    tenant_id: uuid.UUID,
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> Response:
    """Stripe events for one tenant, verified on the raw body (`Stripe-Signature`)."""
    outcome: dict[str, Any] = await receive_stripe_webhook(
        tenant_id, await request.body(), stripe_signature
    )
    return JSONResponse(outcome)
