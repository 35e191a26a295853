"""`{T}/integrations/{kind}`: configure, read (secrets masked), remove and test integrations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.errors import NotFound
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import require
from mercato.modules.integrations import service
from mercato.modules.integrations.connection_checks import run_check
from mercato.modules.integrations.kinds import IntegrationKind
from mercato.modules.integrations.schemas import ConnectionCheck, IntegrationList, IntegrationRead

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["integrations"])

Writer = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_WRITE)]
Reader = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_READ)]


@router.get("/integrations", response_model=IntegrationList)
async def list_integrations(session: DbSession, principal: Reader) -> IntegrationList:
    return IntegrationList(data=await service.list_integrations(session, principal))


@router.put("/integrations/{kind}", response_model=IntegrationRead)
async def put_integration(
    kind: IntegrationKind,
    body: Annotated[dict[str, Any], Body()],
    session: DbSession,
    principal: Writer,
    meta: Meta,
    response: Response,
) -> IntegrationRead:
    read, created = await service.put_integration(session, principal, kind, body, meta)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return read


@router.get("/integrations/{kind}", response_model=IntegrationRead)
async def get_integration(
    kind: IntegrationKind, session: DbSession, principal: Reader
) -> IntegrationRead:
    return await service.get_integration(session, principal, kind)


@router.delete("/integrations/{kind}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_integration(
    kind: IntegrationKind, session: DbSession, principal: Writer, meta: Meta
) -> Response:
    await service.delete_integration(session, principal, kind, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/integrations/{kind}/test", response_model=ConnectionCheck)
async def test_integration(
    kind: IntegrationKind, session: DbSession, principal: Writer
) -> ConnectionCheck:
    config = await service.get_integration_config(session, principal.tenant_id, kind)
    if config is None:
        raise NotFound(f"The {kind} integration is not configured")
    return await run_check(kind, config)
