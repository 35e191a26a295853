"""Stock with a history: for the demo and bulk imports, rows plus the ledger explaining them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def seed_stock_history(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    on_hand: dict[tuple[str, str], int],
    sales: Sequence[tuple[str, str, int, str, datetime]],
    *,
    received_at: datetime,
    actor: str,
) -> None:
    """Demo and imports: stock rows ending at `on_hand`, with a ledger that explains them —
    one receipt per row (on_hand plus everything sold there) at `received_at`, then one
    `sale` per (product, location, quantity, reference, time). The inserts return a column
    for Citus only (see RESERVE_SQL in inventory.service)."""
    sold: dict[tuple[str, str], int] = defaultdict(int)
    for product_id, location, quantity, _, _ in sales:
        sold[(product_id, location)] += quantity
    keys = sorted(set(on_hand) | set(sold))
    await session.execute(
        text(
            "INSERT INTO stock_level (tenant_id, product_id, location_code, on_hand, reserved) "
            "SELECT :tenant, p, l, n, 0 FROM unnest(CAST(:products AS text[]), "
            "CAST(:locations AS text[]), CAST(:units AS int[])) AS v(p, l, n) RETURNING 1"
        ),
        {
            "tenant": tenant_id,
            "products": [k[0] for k in keys],
            "locations": [k[1] for k in keys],
            "units": [on_hand.get(k, 0) for k in keys],
        },
    )
    movements = [
        (k[0], k[1], "receipt", on_hand.get(k, 0) + sold[k], None, received_at) for k in keys
    ] + [(p, loc, "sale", -q, ref, at) for p, loc, q, ref, at in sales]
    await session.execute(
        text(
            "INSERT INTO stock_movement (tenant_id, id, product_id, location_code, kind, "
            "on_hand_delta, reserved_delta, reference, actor, created_at) "
            "SELECT :tenant, gen_random_uuid(), p, l, k, d, 0, r, :actor, t FROM unnest("
            "CAST(:products AS text[]), CAST(:locations AS text[]), CAST(:kinds AS text[]), "
            "CAST(:deltas AS int[]), CAST(:refs AS text[]), CAST(:times AS timestamptz[])) "
            "AS v(p, l, k, d, r, t) RETURNING 1"
        ),
        {
            "tenant": tenant_id,
            "actor": actor,
            "products": [m[0] for m in movements],
            "locations": [m[1] for m in movements],
            "kinds": [m[2] for m in movements],
            "deltas": [m[3] for m in movements],
            "refs": [m[4] for m in movements],
            "times": [m[5] for m in movements],
        },
    )
