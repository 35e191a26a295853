"""Reads of stock: per product, lists for the dashboard, the ledger and its check."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.inventory.schemas import (
    LedgerCheck,
    LocationStock,
    MovementRead,
    ProductStock,
    StockRow,
)
from mercato.modules.inventory.service import _levels, _require_product

STOCK_OF_PRODUCT_SQL = text(
    "SELECT product_id, location_code, on_hand, reserved, low_stock_threshold FROM stock_level "
    "WHERE tenant_id = :tenant AND product_id = :product ORDER BY location_code"
)


async def get_product_stock(
    session: AsyncSession, principal: TenantPrincipal, product_id: str
) -> ProductStock:
    """Totals over every location and the per-location rows; 404 for an unknown product."""
    principal.require(Permission.INVENTORY_READ)
    levels = _levels(
        (
            await session.execute(
                STOCK_OF_PRODUCT_SQL, {"tenant": principal.tenant_id, "product": product_id}
            )
        ).all()
    )
    if not levels:
        await _require_product(session, principal.tenant_id, product_id)
    return ProductStock(
        product_id=product_id,
        on_hand=sum(lv.on_hand for lv in levels),
        reserved=sum(lv.reserved for lv in levels),
        available=sum(lv.available for lv in levels),
        locations=[
            LocationStock(
                location_code=lv.location_code,
                on_hand=lv.on_hand,
                reserved=lv.reserved,
                available=lv.available,
                low_stock_threshold=lv.threshold,
            )
            for lv in levels
        ],
    )


LIST_STOCK_SQL = text(
    "SELECT product_id, location_code, on_hand, reserved, low_stock_threshold, updated_at "
    "FROM stock_level WHERE tenant_id = :tenant "
    "AND (CAST(:location AS text) IS NULL OR location_code = :location) "
    "AND (NOT :low OR (low_stock_threshold IS NOT NULL "
    "AND on_hand - reserved <= low_stock_threshold)) "
    "AND (CAST(:after_p AS text) IS NULL OR (product_id, location_code) > (:after_p, :after_l)) "
    "ORDER BY product_id, location_code LIMIT :limit"
)
MOVEMENTS_SQL = text(
    "SELECT id, product_id, location_code, kind, on_hand_delta, reserved_delta, reference, "
    "actor, note, created_at FROM stock_movement WHERE tenant_id = :tenant "
    "AND product_id = :product AND (CAST(:after AS uuid) IS NULL OR id < :after) "
    "ORDER BY id DESC LIMIT :limit"
)


async def list_stock(
    session: AsyncSession,
    principal: Principal,
    *,
    location_code: str | None,
    low_only: bool,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[StockRow], str | None]:
    """Stock rows by (product_id, location_code), optionally one location or low ones only."""
    principal.require(Permission.INVENTORY_READ)
    size = clamp_limit(limit)
    position = read_cursor(cursor, lambda c: (str(c["p"]), str(c["l"])))
    after_p, after_l = position if position is not None else (None, None)
    rows = (
        await session.execute(
            LIST_STOCK_SQL,
            {
                "tenant": principal.tenant_id,
                "location": location_code or None,
                "low": low_only,
                "after_p": after_p,
                "after_l": after_l,
                "limit": size + 1,
            },
        )
    ).all()
    data = [
        StockRow(
            product_id=r[0],
            location_code=r[1],
            on_hand=r[2],
            reserved=r[3],
            available=r[2] - r[3],
            low_stock_threshold=r[4],
            updated_at=r[5],
        )
        for r in rows[:size]
    ]
    next_cursor = (
        encode_cursor({"p": data[-1].product_id, "l": data[-1].location_code})
        if len(rows) > size
        else None
    )
    return data, next_cursor


async def list_movements(
    session: AsyncSession,
    principal: Principal,
    product_id: str,
    *,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[MovementRead], str | None]:
    """The ledger of one product, newest first."""
    principal.require(Permission.INVENTORY_READ)
    size = clamp_limit(limit)
    position = read_cursor(cursor, lambda c: uuid.UUID(str(c["id"])))
    params = {"tenant": principal.tenant_id, "product": product_id, "after": position}
    rows = (await session.execute(MOVEMENTS_SQL, {**params, "limit": size + 1})).mappings().all()
    data = [MovementRead(**row) for row in rows[:size]]
    next_cursor = encode_cursor({"id": str(data[-1].id)}) if len(rows) > size else None
    return data, next_cursor


LEDGER_SQL = text(
    "SELECT s.product_id, s.location_code, s.on_hand, s.reserved, "
    "coalesce(sum(m.on_hand_delta), 0), coalesce(sum(m.reserved_delta), 0) "
    "FROM stock_level s LEFT JOIN stock_movement m ON m.tenant_id = s.tenant_id "
    "AND m.product_id = s.product_id AND m.location_code = s.location_code "
    "WHERE s.tenant_id = :tenant AND s.product_id = :product "
    "GROUP BY s.product_id, s.location_code, s.on_hand, s.reserved ORDER BY s.location_code"
)


async def check_ledger(
    session: AsyncSession, principal: Principal, product_id: str
) -> list[LedgerCheck]:
    """Recompute on_hand and reserved from the ledger and compare with the current rows."""
    principal.require(Permission.INVENTORY_READ)
    rows = (
        await session.execute(LEDGER_SQL, {"tenant": principal.tenant_id, "product": product_id})
    ).all()
    return [
        LedgerCheck(
            product_id=r[0],
            location_code=r[1],
            on_hand=r[2],
            reserved=r[3],
            ledger_on_hand=int(r[4]),
            ledger_reserved=int(r[5]),
            consistent=(r[2], r[3]) == (int(r[4]), int(r[5])),
        )
        for r in rows
    ]
