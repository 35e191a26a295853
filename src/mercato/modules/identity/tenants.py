"""Tenants: create (the caller becomes owner), list, read, update, suspend, soft-delete."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import Database, get_database, set_actor, set_tenant
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.formats import Formats
from mercato.kernel.pagination import newest_first
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.identity.access import TenantRecord, tenant_record
from mercato.modules.identity.models import Membership, Tenant
from mercato.modules.identity.permissions import Role
from mercato.modules.identity.schemas import TenantRead, TenantUpdate

SOFT_DELETE_RETENTION_DAYS = 30


@dataclass(frozen=True)
class TenantFacts:
    """What other modules may read of a tenant: its names, status and settings."""

    id: uuid.UUID
    name: str
    slug: str
    status: str
    settings: dict[str, Any]
    created_at: datetime
    deleted_at: datetime | None

    @property
    def formats(self) -> Formats:
        """How this tenant's amounts, numbers and dates are written for people."""
        return Formats.of(self.settings)

    @property
    def purge_after(self) -> datetime | None:
        """When a deleted tenant's data may be purged (None unless deleted)."""
        if self.status != "deleted" or self.deleted_at is None:
            return None
        return self.deleted_at + timedelta(days=SOFT_DELETE_RETENTION_DAYS)


async def active_tenant_ids() -> list[uuid.UUID]:
    """Every active tenant (not suspended, not deleted), in id order: what periodic jobs walk.

    Reads across tenants in a session of its own, so only jobs call it, never requests."""
    query = select(Tenant.id).where(Tenant.status == "active").order_by(Tenant.id)
    async with get_database().session() as session:
        return list((await session.scalars(query)).all())


def _facts(tenant: Tenant) -> TenantFacts:
    return TenantFacts(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        status=tenant.status,
        settings=dict(tenant.settings or {}),
        created_at=tenant.created_at,
        deleted_at=tenant.deleted_at,
    )


async def tenant_facts(session: AsyncSession, tenant_id: uuid.UUID) -> TenantFacts | None:
    tenant = await session.get(Tenant, tenant_id)
    return None if tenant is None else _facts(tenant)


async def tenant_setting(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> Any:
    """One value of the tenant's settings (None when unset), without loading the tenant."""
    return await session.scalar(select(Tenant.settings[name].astext).where(Tenant.id == tenant_id))


async def tenant_formats(session: AsyncSession, tenant_id: uuid.UUID) -> Formats:
    """How the tenant's amounts, numbers and dates are written (its `locale` and `currency`
    settings, else the defaults), without loading the tenant."""
    settings = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    return Formats.of(settings or {})


async def live_tenants() -> list[TenantFacts]:
    """Every tenant not deleted (suspended ones included: their data is still kept), in id
    order. Reads across tenants in a session of its own, so only jobs call it."""
    query = select(Tenant).where(Tenant.status != "deleted").order_by(Tenant.id)
    async with get_database().session() as session:
        return [_facts(tenant) for tenant in await session.scalars(query)]


async def tenant_page(
    session: AsyncSession, *, status: str | None, limit: int | None, cursor: str | None
) -> tuple[list[TenantFacts], str | None]:
    """Every tenant (or those with `status`), newest first: the operators' listing."""
    query = select(Tenant)
    if status:
        query = query.where(Tenant.status == status)
    rows, next_cursor = await newest_first(session, query, limit=limit, cursor=cursor)
    return [_facts(tenant) for tenant in rows], next_cursor


async def locked_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> TenantFacts:
    """The tenant, its row locked until the transaction ends so changes serialise."""
    tenant = await session.get(Tenant, tenant_id, with_for_update=True)
    if tenant is None:
        raise NotFound("No such tenant")
    return _facts(tenant)


async def set_status_for_operator(session: AsyncSession, tenant_id: uuid.UUID, status: str) -> None:
    """Suspend or reactivate a tenant for an operator; reactivating undoes a soft delete."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("No such tenant")
    tenant.status = status
    if status == "active":
        tenant.deleted_at = None
    await session.flush()


async def tenants_to_purge() -> list[uuid.UUID]:
    """Tenants deleted longer ago than the soft-delete window, oldest first (for jobs)."""
    window = timedelta(days=SOFT_DELETE_RETENTION_DAYS)
    query = (
        select(Tenant.id)
        .where(Tenant.status == "deleted", Tenant.deleted_at < func.now() - window)
        .order_by(Tenant.deleted_at)
    )
    async with get_database().session() as session:
        return list(await session.scalars(query))


@dataclass(frozen=True)
class TenantWithRole:
    tenant: Tenant
    role: str | None


async def resolve_tenant(database: Database, reference: str) -> uuid.UUID:
    """A live tenant's id from its id or slug (for commands and jobs; 404 when unknown)."""
    async with database.session() as session:
        found = await session.scalar(
            select(Tenant.id).where(
                or_(
                    cast(Tenant.id, Text) == reference.strip(),
                    Tenant.slug == reference.strip().lower(),
                ),
                Tenant.status != "deleted",
            )
        )
    if found is None:
        raise NotFound(f"No tenant with id or slug {reference!r}")
    return found


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50].strip("-")
    return slug or "tenant"


async def _free_slug(session: AsyncSession, wanted: str, *, explicit: bool) -> str:
    taken = set(
        (await session.scalars(select(Tenant.slug).where(Tenant.slug.like(f"{wanted}%")))).all()
    )
    if wanted not in taken:
        return wanted
    if explicit:
        raise Conflict(f"The slug {wanted!r} is taken")
    suffix = 2
    while f"{wanted}-{suffix}" in taken:
        suffix += 1
    return f"{wanted}-{suffix}"


async def create_tenant(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    slug: str | None,
    meta: RequestMeta | None,
) -> Tenant:
    """Create a tenant; the calling staff user becomes its owner."""
    assert principal.user_id is not None
    chosen = await _free_slug(session, slug or slugify(name), explicit=slug is not None)
    tenant = Tenant(name=name.strip(), slug=chosen, status="active", settings={})
    session.add(tenant)
    await session.flush()
    await set_tenant(session, tenant.id)
    session.add(Membership(tenant_id=tenant.id, user_id=principal.user_id, role="owner"))
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant.id,
        actor=principal,
        action="tenant.created",
        target=f"tenant:{tenant.id}",
        changes={"name": {"from": None, "to": tenant.name}, "slug": {"from": None, "to": chosen}},
        meta=meta,
    )
    return tenant


async def list_my_tenants(session: AsyncSession, principal: Principal) -> list[TenantWithRole]:
    """Tenants the user belongs to (memberships are visible to their own user across tenants)."""
    assert principal.user_id is not None
    await set_actor(session, principal.user_id)
    rows = await session.execute(
        select(Tenant, Membership.role)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == principal.user_id, Tenant.status != "deleted")
        .order_by(Tenant.name)
    )
    return [TenantWithRole(tenant, role) for tenant, role in rows.all()]


async def my_tenants(session: AsyncSession, principal: Principal) -> list[TenantRead]:
    """The tenants the user belongs to with their role in each, by name (the tenant switcher)."""
    return [
        TenantRead(
            id=item.tenant.id,
            name=item.tenant.name,
            slug=item.tenant.slug,
            status=item.tenant.status,
            settings=dict(item.tenant.settings or {}),
            created_at=item.tenant.created_at,
            role=Role(item.role) if item.role else None,
        )
        for item in await list_my_tenants(session, principal)
    ]


async def get_tenant(session: AsyncSession, principal: TenantPrincipal) -> TenantWithRole:
    tenant = await session.get(Tenant, principal.tenant_id)
    if tenant is None:
        raise NotFound("No such tenant")
    return TenantWithRole(tenant, principal.role)


async def read_tenant(session: AsyncSession, principal: TenantPrincipal) -> TenantRecord:
    """The principal's tenant as requests see it (from this process's memory when it can)."""
    record = await tenant_record(session, principal.tenant_id)
    if record is None:
        raise NotFound("No such tenant")
    return record


def _snapshot(tenant: Tenant) -> dict[str, object]:
    return {
        "name": tenant.name,
        "slug": tenant.slug,
        "status": tenant.status,
        "settings": dict(tenant.settings or {}),
    }


async def update_tenant(
    session: AsyncSession, principal: TenantPrincipal, changes: TenantUpdate, meta: RequestMeta
) -> TenantWithRole:
    principal.require(Permission.TENANT_WRITE)
    current = await get_tenant(session, principal)
    tenant = current.tenant
    before = _snapshot(tenant)
    if changes.name is not None:
        tenant.name = changes.name.strip()
    if changes.slug is not None and changes.slug != tenant.slug:
        tenant.slug = await _free_slug(session, changes.slug, explicit=True)
    if changes.settings is not None:
        tenant.settings = {
            **(tenant.settings or {}),
            **changes.settings.model_dump(exclude_unset=True),
        }
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant.id,
        actor=principal,
        action="tenant.updated",
        target=f"tenant:{tenant.id}",
        changes=field_changes(before, _snapshot(tenant)),
        meta=meta,
    )
    return current


async def set_tenant_status(
    session: AsyncSession, principal: TenantPrincipal, status: str, meta: RequestMeta
) -> TenantWithRole:
    """Suspend or reactivate. A suspended tenant answers 403 to everyone but its owners."""
    principal.require(Permission.TENANT_SUSPEND)
    current = await get_tenant(session, principal)
    tenant = current.tenant
    if tenant.status == status:
        return current
    before = tenant.status
    tenant.status = status
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant.id,
        actor=principal,
        action="tenant.suspended" if status == "suspended" else "tenant.activated",
        target=f"tenant:{tenant.id}",
        changes={"status": {"from": before, "to": status}},
        meta=meta,
    )
    return current


async def delete_tenant(
    session: AsyncSession, principal: TenantPrincipal, meta: RequestMeta
) -> None:
    """Soft delete (step-up): the tenant disappears at once; its data is kept 30 days."""
    principal.require(Permission.TENANT_DELETE)
    principal.require_recent_auth()
    tenant = (await get_tenant(session, principal)).tenant
    before = tenant.status
    tenant.status = "deleted"
    tenant.deleted_at = datetime.now(UTC)
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant.id,
        actor=principal,
        action="tenant.deleted",
        target=f"tenant:{tenant.id}",
        changes={
            "status": {"from": before, "to": "deleted"},
            "purge_after_days": {"from": None, "to": SOFT_DELETE_RETENTION_DAYS},
        },
        meta=meta,
    )
