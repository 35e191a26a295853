"""`/api/v1/tenants`: tenants, members and API keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import keys, members, tenants
from mercato.modules.identity.access import TenantRecord
from mercato.modules.identity.auth import CurrentUser, require
from mercato.modules.identity.models import Tenant
from mercato.modules.identity.permissions import Role
from mercato.modules.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    MemberCreate,
    MemberList,
    MemberRead,
    MemberUpdate,
    TenantCreate,
    TenantList,
    TenantRead,
    TenantUpdate,
)

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])
T = "/{tenant_id}"


def _tenant_read(item: tenants.TenantWithRole) -> TenantRead:
    return _read(item.tenant, item.role)


def _read(tenant: Tenant | TenantRecord, role: str | None) -> TenantRead:
    return TenantRead(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        status=tenant.status,
        settings=dict(tenant.settings or {}),
        created_at=tenant.created_at,
        role=Role(role) if role else None,
    )


def _member_read(member: members.Member) -> MemberRead:
    return MemberRead(
        user_id=member.user_id,
        email=member.email,
        name=member.name,
        role=member.role,
        status=member.status,
        created_at=member.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TenantRead)
async def create_tenant(
    body: TenantCreate, principal: CurrentUser, session: DbSession, meta: Meta
) -> TenantRead:
    tenant = await tenants.create_tenant(
        session, principal, name=body.name, slug=body.slug, meta=meta
    )
    return _tenant_read(tenants.TenantWithRole(tenant, "owner"))


@router.get("", response_model=TenantList)
async def list_tenants(principal: CurrentUser, session: DbSession) -> TenantList:
    return TenantList(
        data=[_tenant_read(t) for t in await tenants.list_my_tenants(session, principal)]
    )


@router.get(T, response_model=TenantRead)
async def get_tenant(
    principal: Annotated[TenantPrincipal, require(Permission.TENANT_READ)], session: DbSession
) -> TenantRead:
    return _read(await tenants.read_tenant(session, principal), principal.role)


@router.patch(T, response_model=TenantRead)
async def update_tenant(
    body: TenantUpdate,
    principal: Annotated[TenantPrincipal, require(Permission.TENANT_WRITE)],
    session: DbSession,
    meta: Meta,
) -> TenantRead:
    return _tenant_read(await tenants.update_tenant(session, principal, body, meta))


@router.post(T + "/suspend", response_model=TenantRead)
async def suspend_tenant(
    principal: Annotated[TenantPrincipal, require(Permission.TENANT_SUSPEND)],
    session: DbSession,
    meta: Meta,
) -> TenantRead:
    return _tenant_read(await tenants.set_tenant_status(session, principal, "suspended", meta))


@router.post(T + "/activate", response_model=TenantRead)
async def activate_tenant(
    principal: Annotated[TenantPrincipal, require(Permission.TENANT_SUSPEND)],
    session: DbSession,
    meta: Meta,
) -> TenantRead:
    return _tenant_read(await tenants.set_tenant_status(session, principal, "active", meta))


@router.delete(T, status_code=status.HTTP_204_NO_CONTENT, summary="Soft-delete (step-up)")
async def delete_tenant(
    principal: Annotated[TenantPrincipal, require(Permission.TENANT_DELETE)],
    session: DbSession,
    meta: Meta,
) -> Response:
    await tenants.delete_tenant(session, principal, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(T + "/members", response_model=MemberList)
async def list_members(
    principal: Annotated[TenantPrincipal, require(Permission.MEMBERS_READ)], session: DbSession
) -> MemberList:
    return MemberList(
        data=[_member_read(m) for m in await members.list_members(session, principal)]
    )


@router.post(T + "/members", status_code=status.HTTP_201_CREATED, response_model=MemberRead)
async def add_member(
    body: MemberCreate,
    principal: Annotated[TenantPrincipal, require(Permission.MEMBERS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> MemberRead:
    member = await members.add_member(
        session, principal, email=body.email, role=body.role, meta=meta
    )
    return _member_read(member)


@router.patch(T + "/members/{user_id}", response_model=MemberRead, summary="Change role (step-up)")
async def change_member_role(
    user_id: uuid.UUID,
    body: MemberUpdate,
    principal: Annotated[TenantPrincipal, require(Permission.MEMBERS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> MemberRead:
    member = await members.change_role(
        session, principal, user_id=user_id, role=body.role, meta=meta
    )
    return _member_read(member)


@router.delete(T + "/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    user_id: uuid.UUID,
    principal: Annotated[TenantPrincipal, require(Permission.MEMBERS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> Response:
    await members.remove_member(session, principal, user_id=user_id, meta=meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    T + "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key (step-up); the key is shown only in this response",
)
async def create_api_key(
    body: ApiKeyCreate,
    principal: Annotated[TenantPrincipal, require(Permission.API_KEYS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> ApiKeyCreated:
    key, raw = await keys.create_key(session, principal, body, meta)
    return ApiKeyCreated(**keys.api_key_read(key).model_dump(), key=raw)


@router.get(T + "/api-keys", response_model=ApiKeyList)
async def list_api_keys(
    principal: Annotated[TenantPrincipal, require(Permission.API_KEYS_READ)], session: DbSession
) -> ApiKeyList:
    return ApiKeyList(data=[keys.api_key_read(k) for k in await keys.list_keys(session, principal)])


@router.delete(
    T + "/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke (step-up)"
)
async def revoke_api_key(
    key_id: uuid.UUID,
    principal: Annotated[TenantPrincipal, require(Permission.API_KEYS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> Response:
    await keys.revoke_key(session, principal, key_id, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
