"""`{T}/inventory`: stock per product and location; `{T}/inventory-movements` (the ledger)
and `{T}/inventory-ledger` (on_hand recomputed from it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.identity import require
from mercato.modules.inventory import reading, service
from mercato.modules.inventory.schemas import (
    LedgerCheck,
    MovementCreate,
    MovementRead,
    ProductStock,
    StockLevelRead,
    StockRow,
    StockWrite,
)
from mercato.modules.locations import CODE_PATTERN

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["inventory"])
ProductId = Annotated[str, Path(min_length=1, max_length=128, description="The product_id")]
LocationCode = Annotated[str, Path(pattern=CODE_PATTERN, description="The location code")]
Reader = Annotated[TenantPrincipal, require(Permission.INVENTORY_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.INVENTORY_WRITE)]


class LedgerReport(BaseModel):
    data: list[LedgerCheck]


@router.put("/inventory/{product_id}/{location_code}", response_model=StockLevelRead)
async def put_stock(
    product_id: ProductId,
    location_code: LocationCode,
    body: StockWrite,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> StockLevelRead:
    """Set on_hand at one location (the difference is logged as an adjustment)."""
    level = await service.set_on_hand(session, principal, product_id, location_code, body)
    await record_audit(
        session,
        actor=principal,
        action="stock.set",
        target=f"stock:{product_id}@{location_code}",
        changes={"on_hand": {"from": None, "to": body.on_hand}},
        meta=meta,
    )
    return level


@router.post("/inventory/{product_id}/{location_code}/movements", response_model=StockLevelRead)
async def post_movement(
    product_id: ProductId,
    location_code: LocationCode,
    body: MovementCreate,
    principal: Writer,
    session: DbSession,
) -> StockLevelRead:
    """Record a receipt of goods or a signed adjustment."""
    return await service.record_movement(session, principal, product_id, location_code, body)


@router.get("/inventory", response_model=Page[StockRow])
async def list_stock(
    principal: Reader,
    session: DbSession,
    location: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    low: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[StockRow]:
    rows, next_cursor = await reading.list_stock(
        session, principal, location_code=location, low_only=low, limit=limit, cursor=cursor
    )
    return Page[StockRow](data=rows, next_cursor=next_cursor)


@router.get("/inventory/{product_id}", response_model=ProductStock)
async def get_stock(product_id: ProductId, principal: Reader, session: DbSession) -> ProductStock:
    return await reading.get_product_stock(session, principal, product_id)


# Not `/inventory/{product_id}/movements`: that would also match PUT /inventory/{p}/{location}.
@router.get("/inventory-movements/{product_id}", response_model=Page[MovementRead])
async def list_movements(
    product_id: ProductId,
    principal: Reader,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[MovementRead]:
    rows, next_cursor = await reading.list_movements(
        session, principal, product_id, limit=limit, cursor=cursor
    )
    return Page[MovementRead](data=rows, next_cursor=next_cursor)


@router.get("/inventory-ledger/{product_id}", response_model=LedgerReport)
async def check_ledger(
    product_id: ProductId, principal: Reader, session: DbSession
) -> LedgerReport:
    """on_hand and reserved recomputed from the movement ledger, next to the current rows."""
    return LedgerReport(data=await reading.check_ledger(session, principal, product_id))
