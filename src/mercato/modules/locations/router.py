"""`{T}/locations`: stores, branches and warehouses, addressed by the merchant's code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.identity import require
from mercato.modules.locations import service
from mercato.modules.locations.schemas import (
    CODE_PATTERN,
    LocationList,
    LocationRead,
    LocationWrite,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/locations", tags=["locations"])
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="The merchant's location code")]


@router.put(
    "/{code}",
    response_model=LocationRead,
    responses={201: {"description": "Created"}, 200: {"description": "Replaced"}},
)
async def put_location(
    code: Code,
    body: LocationWrite,
    response: Response,
    principal: Annotated[TenantPrincipal, require(Permission.INVENTORY_WRITE)],
    session: DbSession,
    meta: Meta,
) -> LocationRead:
    location, created = await service.upsert_location(session, principal.tenant_id, code, body)
    await record_audit(
        session,
        actor=principal,
        action="location.created" if created else "location.replaced",
        target=f"location:{code}",
        changes={"name": {"from": None, "to": location.name}},
        meta=meta,
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return service.to_read(location)


@router.get("", response_model=LocationList)
async def list_locations(
    principal: Annotated[TenantPrincipal, require(Permission.INVENTORY_READ)],
    session: DbSession,
    include_archived: bool = False,
) -> LocationList:
    rows = await service.list_locations(session, include_archived=include_archived)
    return LocationList(data=[service.to_read(row) for row in rows])


@router.get("/{code}", response_model=LocationRead)
async def get_location(
    code: Code,
    principal: Annotated[TenantPrincipal, require(Permission.INVENTORY_READ)],
    session: DbSession,
) -> LocationRead:
    return service.to_read(await service.get_location(session, principal.tenant_id, code))
