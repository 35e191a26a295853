"""Accounts, tenants and API keys made by the platform itself rather than by a person
(the demo's owner, shop and traffic stream): found when they exist, created otherwise,
so a caller may run twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import passwords
from mercato.kernel.db import set_tenant
from mercato.modules.identity import apikeys
from mercato.modules.identity.accounts import find_user_by_email
from mercato.modules.identity.keys import issue_key
from mercato.modules.identity.models import ApiKey, Membership, StaffUser, Tenant
from mercato.modules.identity.schemas import ApiKeyCreate


async def ensure_verified_account(
    session: AsyncSession, *, email: str, name: str, password: str
) -> uuid.UUID:
    """The account with this e-mail, created verified with this password when missing.

    An existing account is left as it is (its password included)."""
    user = await find_user_by_email(session, email)
    if user is None:
        user = StaffUser(
            email=email,
            name=name,
            password_hash=await asyncio.to_thread(passwords.hash_password, password),
            email_verified_at=datetime.now(UTC),
        )
        session.add(user)
        await session.flush()
    return user.id


async def ensure_owned_tenant(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    settings: dict[str, Any],
    owner_id: uuid.UUID,
) -> uuid.UUID:
    """The tenant with this slug (created active when missing), with a membership for
    `owner_id` (added as owner when it has none); the session is left scoped to the tenant."""
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        tenant = Tenant(name=name, slug=slug, status="active", settings=settings)
        session.add(tenant)
        await session.flush()
    await set_tenant(session, tenant.id)
    if await session.get(Membership, (tenant.id, owner_id)) is None:
        session.add(Membership(tenant_id=tenant.id, user_id=owner_id, role="owner"))
    return tenant.id


async def ensure_system_key(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    request: ApiKeyCreate,
    *,
    actor: str,
    known: str | None = None,
) -> str:
    """`known` when it is still a live key of the tenant, else a new key issued as `actor`
    (audited like a key made in the dashboard). The session must be scoped to the tenant."""
    if known is not None and apikeys.plausible_key(known):
        live = await session.scalar(
            select(ApiKey.id).where(
                ApiKey.tenant_id == tenant_id,
                ApiKey.key_hash == apikeys.hash_key(known),
                ApiKey.revoked_at.is_(None),
            )
        )
        if live is not None:
            return known
    _, raw = await issue_key(session, tenant_id, request, actor=actor, created_by=None)
    return raw
