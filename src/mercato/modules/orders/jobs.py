"""Release reservations of pending orders whose time ran out (every minute)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from mercato.kernel.db import get_database
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.identity import active_tenant_ids
from mercato.modules.orders.models import SalesOrder
from mercato.modules.orders.service import cancel

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
