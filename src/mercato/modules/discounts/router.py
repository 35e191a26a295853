"""`{T}/discounts`: the merchant's discount codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.discounts import service
from mercato.modules.discounts.schemas import CODE_PATTERN, DiscountRead, DiscountWrite
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/discounts", tags=["discounts"])
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="Any case; stored upper-case")]
Reader = Annotated[TenantPrincipal, require(Permission.ORDERS_READ)]


@router.put(
    "/{code}",
    response_model=DiscountRead,
    responses={201: {"description": "Created"}, 200: {"description": "Replaced"}},
)
async def put_discount(
    code: Code,
    body: DiscountWrite,
    response: Response,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> DiscountRead:
    """Create or replace a code's terms (`active: false` deactivates it); uses are kept."""
    discount, created = await service.put_discount(session, principal, code, body, meta)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return discount


@router.get("/{code}", response_model=DiscountRead)
async def get_discount(code: Code, principal: Reader, session: DbSession) -> DiscountRead:
    return await service.get_discount(session, principal, code)


@router.get("", response_model=Page[DiscountRead])
async def list_discounts(
    principal: Reader,
    session: DbSession,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[DiscountRead]:
    """Codes in alphabetical order; `active` keeps only the active (or inactive) ones."""
    rows, next_cursor = await service.list_discounts(
        session, principal, active=active, limit=limit, cursor=cursor
    )
    return Page[DiscountRead](data=rows, next_cursor=next_cursor)
