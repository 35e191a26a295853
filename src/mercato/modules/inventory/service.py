"""Stock: the one place on_hand and reserved change (STYLE: one module owns each invariant).

Every change is a row in the append-only `stock_movement` ledger written by the same
statement that changes `stock_level`, so the ledger always sums to the current state.
Writers lock the rows they change with `SELECT … FOR UPDATE` ordered by (product_id,
location_code) — the same order everywhere, so two checkouts of overlapping carts queue
instead of deadlocking. Check constraints on `stock_level` are the last line of defence
against an oversell.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.events import emit
from mercato.kernel.orm import UUID7_SQL, uuid7
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.catalog import get_products
from mercato.modules.inventory.schemas import (
    MovementCreate,
    StockLevelRead,
    StockWrite,
)
from mercato.modules.locations import get_location

LOW_STOCK_EVENT = "inventory.low_stock"
STOCK_CHANGED_EVENT = "inventory.stock_changed"


class InsufficientStock(Conflict):
    slug, title = "insufficient-stock", "Not enough stock to reserve"


class BelowReserved(Conflict):
    slug, title = "below-reserved", "on_hand cannot go below what is reserved"


@dataclass(frozen=True)
class Allocation:
    """`quantity` units of a product held at (or taken from) one location."""

    product_id: str
    location_code: str
    quantity: int


@dataclass
class _Level:
    product_id: str
    location_code: str
    on_hand: int
    reserved: int
    threshold: int | None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


LOCK_PAIRS_SQL = text(
    "SELECT s.product_id, s.location_code, s.on_hand, s.reserved, s.low_stock_threshold "
    "FROM stock_level s JOIN unnest(CAST(:products AS text[]), CAST(:locations AS text[])) "
    "AS v(product_id, location_code) USING (product_id, location_code) "
    "WHERE s.tenant_id = :tenant ORDER BY s.product_id, s.location_code FOR UPDATE OF s"
)
# One round trip: change the levels and append the ledger rows that explain the change.
APPLY_SQL = text(
    "WITH v AS (SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:products AS text[]), "
    "CAST(:locations AS text[]), CAST(:on_hand AS int[]), CAST(:reserved AS int[])) "
    "AS v(id, product_id, location_code, on_hand_delta, reserved_delta)), "
    "u AS (UPDATE stock_level s SET on_hand = s.on_hand + v.on_hand_delta, "
    "reserved = s.reserved + v.reserved_delta, updated_at = now() FROM v "
    "WHERE s.tenant_id = :tenant AND s.product_id = v.product_id "
    "AND s.location_code = v.location_code RETURNING 1), "
    "m AS (INSERT INTO stock_movement (tenant_id, id, product_id, location_code, kind, "
    "on_hand_delta, reserved_delta, reference, actor, note) "
    "SELECT :tenant, v.id, v.product_id, v.location_code, :kind, v.on_hand_delta, "
    "v.reserved_delta, :reference, :actor, :note FROM v RETURNING 1) "
    "SELECT (SELECT count(*) FROM u)"
)
ENSURE_ROW_SQL = text(
    "INSERT INTO stock_level (tenant_id, product_id, location_code, on_hand, reserved) "
    "VALUES (:tenant, :product, :location, 0, 0) ON CONFLICT DO NOTHING"
)


def _levels(rows: Iterable[Sequence[object]]) -> list[_Level]:
    return [
        _Level(
            str(r[0]),
            str(r[1]),
            int(str(r[2])),
            int(str(r[3])),
            None if r[4] is None else int(str(r[4])),
        )
        for r in rows
    ]


async def _apply(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    kind: str,
    changes: Sequence[tuple[str, str, int, int]],
    *,
    reference: str | None,
    actor: str | None,
    note: str | None = None,
) -> None:
    """Apply (product, location, on_hand_delta, reserved_delta) to locked rows, and log them."""
    if not changes:
        return
    updated = await session.scalar(
        APPLY_SQL,
        {
            "tenant": tenant_id,
            "ids": [uuid7() for _ in changes],
            "products": [c[0] for c in changes],
            "locations": [c[1] for c in changes],
            "on_hand": [c[2] for c in changes],
            "reserved": [c[3] for c in changes],
            "kind": kind,
            "reference": reference,
            "actor": actor,
            "note": note,
        },
    )
    if updated != len(changes):
        raise NotFound("A stock row to change does not exist")
    await _announce_change(session, tenant_id, [c[0] for c in changes if c[2] != c[3]])


async def _announce_change(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Iterable[str]
) -> None:
    """`inventory.stock_changed` `{"product_ids"}`: units available changed somewhere.

    A sale of reserved units leaves availability as it was, so it announces nothing.
    """
    changed = sorted(set(product_ids))
    if changed:
        await emit(session, tenant_id, STOCK_CHANGED_EVENT, {"product_ids": changed})


async def _announce_low_stock(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    before: Sequence[_Level],
    delta_available: dict[tuple[str, str], int],
) -> None:
    """`inventory.low_stock` for each row whose availability crosses its threshold now."""
    for level in before:
        change = delta_available.get((level.product_id, level.location_code), 0)
        if level.threshold is None or change >= 0:
            continue
        after = level.available + change
        if level.available > level.threshold >= after:
            await emit(
                session,
                tenant_id,
                LOW_STOCK_EVENT,
                {
                    "id": level.product_id,
                    "product_id": level.product_id,
                    "summary": f"{level.product_id} is running low at {level.location_code}: "
                    f"{after} left (threshold {level.threshold})",
                    # Once per crossing and day: a restock and a new crossing alert again.
                    "occurrence_id": f"{level.product_id}:{level.location_code}:"
                    f"{datetime.now(UTC).date().isoformat()}",
                    "location_code": level.location_code,
                    "available": after,
                    "threshold": level.threshold,
                },
            )


# Checkout's reservation in one round trip: lock the wanted products' rows in the global
# order, choose where each product's units come from (the preferred location if it has
# them all, else the locations with most available first, which is the one with most
# available whenever a single one has them all), and, only when every product has
# enough, move `reserved` and append the ledger rows. Row-level locks taken by the
# `FOR UPDATE` CTE return each row as last committed, so the choice is made on current
# figures; the UPDATE re-reads the same (locked) row versions. The ledger INSERT returns
# a column only for Citus: an INSERT … SELECT without RETURNING (or ON CONFLICT) is moved
# into the shards with COPY, which row-level security refuses.
RESERVE_SQL = text(
    "WITH w AS (SELECT * FROM unnest(CAST(:products AS text[]), CAST(:quantities AS int[])) "  # noqa: S608 - UUID7_SQL is a constant
    "AS w(product_id, wanted)), "
    "l AS MATERIALIZED (SELECT s.product_id, s.location_code, s.on_hand, s.reserved, "
    "s.low_stock_threshold FROM stock_level s WHERE s.tenant_id = :tenant "
    "AND s.product_id = ANY(CAST(:products AS text[])) "
    "ORDER BY s.product_id, s.location_code FOR UPDATE), "
    "r AS (SELECT l.*, w.wanted, greatest(l.on_hand - l.reserved, 0) AS free, "
    "sum(greatest(l.on_hand - l.reserved, 0)) OVER p AS total, "
    "coalesce(bool_or(l.location_code = CAST(:prefer AS text) "
    "AND l.on_hand - l.reserved >= w.wanted) OVER p, false) AS at_preferred, "
    "sum(greatest(l.on_hand - l.reserved, 0)) OVER (p ORDER BY l.on_hand - l.reserved DESC, "
    "l.location_code ROWS UNBOUNDED PRECEDING) AS upto "
    "FROM l JOIN w USING (product_id) WINDOW p AS (PARTITION BY l.product_id)), "
    "short AS (SELECT w.product_id, w.wanted, coalesce(max(r.total), 0) AS available "
    "FROM w LEFT JOIN r USING (product_id) GROUP BY w.product_id, w.wanted "
    "HAVING coalesce(max(r.total), 0) < w.wanted), "
    "a AS (SELECT r.*, CASE WHEN r.at_preferred THEN CASE WHEN r.location_code = "
    "CAST(:prefer AS text) THEN r.wanted ELSE 0 END "
    "ELSE least(r.free, greatest(r.wanted - (r.upto - r.free), 0)) END AS quantity "
    "FROM r WHERE NOT EXISTS (SELECT 1 FROM short)), "
    "u AS (UPDATE stock_level s SET reserved = s.reserved + a.quantity, updated_at = now() "
    "FROM a WHERE a.quantity > 0 AND s.tenant_id = :tenant AND s.product_id = a.product_id "
    "AND s.location_code = a.location_code), "
    "m AS (INSERT INTO stock_movement (tenant_id, id, product_id, location_code, kind, "
    f"on_hand_delta, reserved_delta, reference, actor) SELECT :tenant, {UUID7_SQL}, "
    "a.product_id, a.location_code, 'reservation', 0, a.quantity, :reference, :actor "
    "FROM a WHERE a.quantity > 0 RETURNING 1) "
    "SELECT false, product_id, location_code, quantity, on_hand, reserved, "
    "low_stock_threshold, upto FROM a WHERE quantity > 0 "
    "UNION ALL SELECT true, product_id, NULL, wanted, available, NULL, NULL, NULL FROM short "
    "ORDER BY 2, 8"
)


async def reserve_stock(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    wanted: dict[str, int],
    *,
    reference: str,
    actor: str,
    prefer_location: str | None = None,
) -> list[Allocation]:
    """Hold `wanted` units (product → quantity) for `reference`, all or nothing, in one
    statement (`RESERVE_SQL`); returns where the units are held, by product.

    Raises `InsufficientStock` (409) naming each short product; nothing changes then.
    """
    products = sorted(wanted)
    rows = (
        await session.execute(
            RESERVE_SQL,
            {
                "tenant": tenant_id,
                "products": products,
                "quantities": [wanted[p] for p in products],
                "prefer": prefer_location,
                "reference": reference,
                "actor": actor,
            },
        )
    ).all()
    shortages = [
        {"product_id": r[1], "requested": int(r[3]), "available": int(r[4])} for r in rows if r[0]
    ]
    if shortages:
        names = ", ".join(str(s["product_id"]) for s in shortages)
        raise InsufficientStock(f"Not enough stock for: {names}", items=shortages)
    allocations = [Allocation(r[1], r[2], int(r[3])) for r in rows]
    await _announce_change(session, tenant_id, [a.product_id for a in allocations])
    await _announce_low_stock(
        session,
        tenant_id,
        _levels((r[1], r[2], r[4], r[5], r[6]) for r in rows),
        {(a.product_id, a.location_code): -a.quantity for a in allocations},
    )
    return allocations


async def _lock_pairs(
    session: AsyncSession, tenant_id: uuid.UUID, allocations: Sequence[Allocation]
) -> list[_Level]:
    pairs = sorted({(a.product_id, a.location_code) for a in allocations})
    rows = await session.execute(
        LOCK_PAIRS_SQL,
        {
            "tenant": tenant_id,
            "products": [p for p, _ in pairs],
            "locations": [loc for _, loc in pairs],
        },
    )
    return _levels(rows.all())


async def release_stock(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    allocations: Sequence[Allocation],
    *,
    reference: str,
    actor: str,
) -> None:
    """Give reserved units back to availability (order cancelled or reservation expired)."""
    await _lock_pairs(session, tenant_id, allocations)
    await _apply(
        session,
        tenant_id,
        "release",
        [(a.product_id, a.location_code, 0, -a.quantity) for a in allocations],
        reference=reference,
        actor=actor,
    )


async def sell_reserved_stock(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    allocations: Sequence[Allocation],
    *,
    reference: str,
    actor: str,
) -> None:
    """Turn a reservation into a sale: the units leave on_hand and reserved together."""
    await _lock_pairs(session, tenant_id, allocations)
    await _apply(
        session,
        tenant_id,
        "sale",
        [(a.product_id, a.location_code, -a.quantity, -a.quantity) for a in allocations],
        reference=reference,
        actor=actor,
    )


def _shortages(
    levels: dict[tuple[str, str], _Level], wanted: Sequence[Allocation]
) -> list[dict[str, object]]:
    """The allocations the locked levels cannot give from what is available."""
    short: list[dict[str, object]] = []
    for a in wanted:
        level = levels.get((a.product_id, a.location_code))
        available = 0 if level is None else level.available
        if available < a.quantity:
            short.append(
                {"product_id": a.product_id, "requested": a.quantity, "available": available}
            )
    return short


async def sell_unreserved_stock(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    allocations: Sequence[Allocation],
    *,
    reference: str,
    actor: str,
) -> None:
    """Sell units whose reservation had lapsed; `InsufficientStock` if they are gone."""
    levels = {
        (lv.product_id, lv.location_code): lv
        for lv in await _lock_pairs(session, tenant_id, allocations)
    }
    short = _shortages(levels, allocations)
    if short:
        raise InsufficientStock("The reservation lapsed and the stock is gone", items=short)
    await _apply(
        session,
        tenant_id,
        "sale",
        [(a.product_id, a.location_code, -a.quantity, 0) for a in allocations],
        reference=reference,
        actor=actor,
    )


async def return_stock(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    allocations: Sequence[Allocation],
    *,
    reference: str,
    actor: str,
    note: str | None = None,
) -> None:
    """Put sold units back on hand (a refund the merchant asked to restock)."""
    await _lock_pairs(session, tenant_id, allocations)
    await _apply(
        session,
        tenant_id,
        "return",
        [(a.product_id, a.location_code, a.quantity, 0) for a in allocations],
        reference=reference,
        actor=actor,
        note=note,
    )


async def restock_units(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    allocations: Sequence[Allocation],
    *,
    reference: str,
    actor: str,
    note: str | None = None,
) -> None:
    """Put returned units back on hand at the locations the merchant chose (a `return`
    movement each); a location without a stock row for the product gets one. 422 for an
    unknown location."""
    for allocation in allocations:
        try:
            await get_location(session, tenant_id, allocation.location_code)
        except NotFound as exc:
            message = f"No location {allocation.location_code!r}"
            raise ValidationFailed(message, errors=[field_error("location_code", message)]) from exc
        await session.execute(
            ENSURE_ROW_SQL,
            {
                "tenant": tenant_id,
                "product": allocation.product_id,
                "location": allocation.location_code,
            },
        )
    await return_stock(session, tenant_id, allocations, reference=reference, actor=actor, note=note)


async def transfer_sold_stock(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    moves: Sequence[Allocation],
    ship_from: str,
    *,
    reference: str,
    actor: str,
) -> None:
    """Units sold at `move.location_code` leave from `ship_from` instead: the sale moves.

    Payment took the units off on_hand where checkout reserved them; a shipment from
    another location gives them back there and takes them from `ship_from` (a `transfer`
    pair in the ledger). All rows are locked at once in the global order. 409
    `insufficient-stock` when `ship_from` has fewer units available than leave it.
    """
    moves = [m for m in moves if m.location_code != ship_from and m.quantity > 0]
    if not moves:
        return
    leaving: dict[str, int] = {}
    for move in moves:
        leaving[move.product_id] = leaving.get(move.product_id, 0) + move.quantity
    wanted = [Allocation(p, ship_from, q) for p, q in sorted(leaving.items())]
    levels = {
        (lv.product_id, lv.location_code): lv
        for lv in await _lock_pairs(session, tenant_id, [*moves, *wanted])
    }
    short = _shortages(levels, wanted)
    if short:
        names = ", ".join(str(s["product_id"]) for s in short)
        raise InsufficientStock(f"Not enough stock at {ship_from!r} for: {names}", items=short)
    await _apply(
        session,
        tenant_id,
        "transfer",
        [(m.product_id, m.location_code, m.quantity, 0) for m in moves]
        + [(w.product_id, ship_from, -w.quantity, 0) for w in wanted],
        reference=reference,
        actor=actor,
    )
    await _announce_low_stock(
        session,
        tenant_id,
        [levels[(w.product_id, ship_from)] for w in wanted],
        {(w.product_id, ship_from): -w.quantity for w in wanted},
    )


async def _require_product(session: AsyncSession, tenant_id: uuid.UUID, product_id: str) -> None:
    snapshot = (await get_products(session, tenant_id, [product_id])).get(product_id)
    if snapshot is None or snapshot.deleted:
        raise NotFound(f"No product {product_id!r}")


async def _lock_one(
    session: AsyncSession, tenant_id: uuid.UUID, product_id: str, location_code: str
) -> _Level:
    await session.execute(
        ENSURE_ROW_SQL, {"tenant": tenant_id, "product": product_id, "location": location_code}
    )
    levels = await _lock_pairs(session, tenant_id, [Allocation(product_id, location_code, 0)])
    return levels[0]


async def _change_on_hand(
    session: AsyncSession,
    principal: TenantPrincipal,
    level: _Level,
    delta: int,
    kind: str,
    note: str | None,
) -> None:
    if level.on_hand + delta < level.reserved:
        raise BelowReserved(
            f"{level.reserved} units are reserved; on_hand cannot go below that",
            reserved=level.reserved,
        )
    if delta:
        await _apply(
            session,
            principal.tenant_id,
            kind,
            [(level.product_id, level.location_code, delta, 0)],
            reference=None,
            actor=principal.actor,
            note=note,
        )
        await _announce_low_stock(
            session, principal.tenant_id, [level], {(level.product_id, level.location_code): delta}
        )
    level.on_hand += delta


async def set_on_hand(
    session: AsyncSession,
    principal: TenantPrincipal,
    product_id: str,
    location_code: str,
    body: StockWrite,
) -> StockLevelRead:
    """Count the shelf: set on_hand (an `adjustment` for the difference) and the threshold.

    404 for an unknown product or location; 409 `below-reserved` under the reserved count.
    """
    principal.require(Permission.INVENTORY_WRITE)
    await get_location(session, principal.tenant_id, location_code)
    await _require_product(session, principal.tenant_id, product_id)
    level = await _lock_one(session, principal.tenant_id, product_id, location_code)
    await _change_on_hand(
        session, principal, level, body.on_hand - level.on_hand, "adjustment", body.note
    )
    if body.low_stock_threshold != level.threshold:
        await session.execute(
            text(
                "UPDATE stock_level SET low_stock_threshold = :threshold WHERE tenant_id = :tenant "
                "AND product_id = :product AND location_code = :location"
            ),
            {
                "threshold": body.low_stock_threshold,
                "tenant": principal.tenant_id,
                "product": product_id,
                "location": location_code,
            },
        )
        level.threshold = body.low_stock_threshold
    return StockLevelRead(
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        low_stock_threshold=level.threshold,
    )


async def record_movement(
    session: AsyncSession,
    principal: TenantPrincipal,
    product_id: str,
    location_code: str,
    body: MovementCreate,
) -> StockLevelRead:
    """A receipt (positive) or a signed adjustment of on_hand at one location."""
    principal.require(Permission.INVENTORY_WRITE)
    if body.kind == "receipt" and body.quantity <= 0:
        message = "A receipt adds units: quantity must be positive"
        raise ValidationFailed(message, errors=[field_error("quantity", message)])
    await get_location(session, principal.tenant_id, location_code)
    await _require_product(session, principal.tenant_id, product_id)
    level = await _lock_one(session, principal.tenant_id, product_id, location_code)
    if level.on_hand + body.quantity < 0:
        raise BelowReserved("on_hand cannot go negative", reserved=level.reserved)
    await _change_on_hand(session, principal, level, body.quantity, body.kind, body.note)
    return StockLevelRead(
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        low_stock_threshold=level.threshold,
    )


AVAILABLE_SQL = text(
    "SELECT product_id, sum(on_hand - reserved) FROM stock_level WHERE tenant_id = :tenant "
    "AND (CAST(:products AS text[]) IS NULL OR product_id = ANY(CAST(:products AS text[]))) "
    "GROUP BY product_id"
)


AVAILABLE_AT_SQL = text(
    "SELECT product_id, location_code, on_hand - reserved FROM stock_level "
    "WHERE tenant_id = :tenant "
    "AND (CAST(:products AS text[]) IS NULL OR product_id = ANY(CAST(:products AS text[])))"
)


async def available_by_location(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Sequence[str] | None
) -> dict[tuple[str, str], int]:
    """Units available now per (product, location) for `product_ids` (`None`: every product).

    A pair without a stock row is absent: that location does not carry the product.
    """
    rows = await session.execute(
        AVAILABLE_AT_SQL,
        {"tenant": tenant_id, "products": None if product_ids is None else list(product_ids)},
    )
    return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


async def available_units(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Sequence[str] | None
) -> dict[str, int]:
    """Units available now per product over all locations (`None`: every product).

    Products without any stock row are absent: their stock is not tracked.
    """
    rows = await session.execute(
        AVAILABLE_SQL,
        {"tenant": tenant_id, "products": None if product_ids is None else list(product_ids)},
    )
    return {str(r[0]): int(r[1]) for r in rows}
