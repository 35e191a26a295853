"""Demo seed: the demo owner account and the demo tenant."""

from __future__ import annotations

from mercato.demo import DEMO_TENANT_SLUG, DemoContext, SeedStep
from mercato.modules.identity import ensure_owned_tenant, ensure_verified_account

DEMO_TENANT_NAME = "Nordic Home & Garden"


async def seed_owner_and_tenant(context: DemoContext) -> None:
    email, password = context.credentials["email"], context.credentials["password"]
    async with context.database.session() as session:
        owner_id = await ensure_verified_account(
            session, email=email, name="Demo Owner", password=password
        )
        await ensure_owned_tenant(
            session,
            slug=DEMO_TENANT_SLUG,
            name=DEMO_TENANT_NAME,
            settings={"timezone": "Europe/Stockholm", "currency": "EUR", "locale": "en"},
            owner_id=owner_id,
        )


STEPS = [SeedStep("identity.owner_and_tenant", 10, seed_owner_and_tenant)]
