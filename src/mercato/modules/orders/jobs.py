"""Every minute: release reservations of pending orders whose time ran out, and send
the refunds of returns their provider has not taken yet."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from mercato.kernel.db import get_database, scope_transaction
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.identity import active_tenant_ids
from mercato.modules.orders.models import SalesOrder
from mercato.modules.orders.returns import send_refund
from mercato.modules.orders.service import cancel
from mercato.modules.payments import pending_refunds

log = get_logger("mercato.orders.jobs")

EXPIRY_ACTOR = "system:reservation-expiry"
BATCH = 200


async def expire_reservations(tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    """Cancel the tenant's pending orders whose reservation expired; returns how many.

    Rows another transaction holds (a payment arriving right now) are skipped this round.
    """
    moment = now or datetime.now(UTC)
    expired = 0
    while True:
        async with get_database().tenant_session(tenant_id) as session:
            orders = (
                await session.scalars(
                    select(SalesOrder)
                    .where(
                        # Explicit although the session is scoped: Citus routes a locking
                        # query only by its tenant (it refuses FOR UPDATE over every shard).
                        SalesOrder.tenant_id == tenant_id,
                        SalesOrder.stock_state == "reserved",
                        SalesOrder.status == "pending",
                        SalesOrder.reserved_until <= moment,
                    )
                    .order_by(SalesOrder.reserved_until)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for order in orders:
                await cancel(session, order, actor=EXPIRY_ACTOR, note="reservation expired")
        expired += len(orders)
        if len(orders) < BATCH:
            return expired


@periodic("* * * * *", periodic_id="orders-expire-reservations")
@task("orders.expire_reservations", queue="maintenance", timeout_s=120)
async def expire_reservations_every_minute(*, timestamp: int) -> None:
    tenants = await active_tenant_ids()
    expired = await for_each_tenant("reservation_expiry", tenants, expire_reservations)
    for tenant_id, count in expired.items():
        if count:
            log.info("reservations_expired", tenant_id=str(tenant_id), orders=count)


async def retry_refunds(tenant_id: uuid.UUID) -> int:
    """Send the tenant's pending refunds again; returns how many the provider took.

    Each refund in its own transaction; the provider's idempotency key (the refund id)
    makes a refund the request is sending at the same moment come out once.
    """
    async with get_database().tenant_session(tenant_id) as session:
        pending = await pending_refunds(session, limit=BATCH)
    sent = 0
    for refund_id in pending:
        async with get_database().tenant_session(tenant_id) as session:
            # Scoped for every transaction: sending commits midway (see `settle_refund`).
            await scope_transaction(session, tenant_id)
            sent += int(await send_refund(session, tenant_id, refund_id))
    return sent


@periodic("* * * * *", periodic_id="orders-retry-refunds")
@task("orders.retry_refunds", queue="maintenance", timeout_s=120)
async def retry_refunds_every_minute(*, timestamp: int) -> None:
    tenants = await active_tenant_ids()
    sent = await for_each_tenant("refund_retry", tenants, retry_refunds)
    for tenant_id, count in sent.items():
        if count:
            log.info("refunds_sent", tenant_id=str(tenant_id), refunds=count)
