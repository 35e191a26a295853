"""Demo seed: the demo owner account and the demo tenant."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from mercato.demo import DEMO_TENANT_SLUG, DemoContext, SeedStep
from mercato.kernel import passwords
from mercato.kernel.db import set_tenant
from mercato.modules.identity.accounts import find_user_by_email
from mercato.modules.identity.models import Membership, StaffUser, Tenant

DEMO_TENANT_NAME = "Nordic Home & Garden"


async def seed_owner_and_tenant(context: DemoContext) -> None:
    email, password = context.credentials["email"], context.credentials["password"]
    async with context.database.session() as session:
        user = await find_user_by_email(session, email)
        if user is None:
            user = StaffUser(
                email=email,
                name="Demo Owner",
                password_hash=await asyncio.to_thread(passwords.hash_password, password),
                email_verified_at=datetime.now(UTC),
            )
            session.add(user)
            await session.flush()
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT_SLUG))
        if tenant is None:
            tenant = Tenant(
                name=DEMO_TENANT_NAME,
                slug=DEMO_TENANT_SLUG,
                status="active",
                settings={"timezone": "Europe/Stockholm", "currency": "EUR", "locale": "en"},
            )
            session.add(tenant)
            await session.flush()
        await set_tenant(session, tenant.id)
        if await session.get(Membership, (tenant.id, user.id)) is None:
            session.add(Membership(tenant_id=tenant.id, user_id=user.id, role="owner"))


STEPS = [SeedStep("identity.owner_and_tenant", 10, seed_owner_and_tenant)]
