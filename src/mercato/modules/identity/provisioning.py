"""Accounts and tenants made by the platform itself rather than by a person signing up
(the demo's owner and shop): found when they exist, created otherwise, so a caller may
run twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import passwords
from mercato.kernel.db import set_tenant
from mercato.modules.identity.accounts import find_user_by_email
from mercato.modules.identity.models import Membership, StaffUser, Tenant


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
