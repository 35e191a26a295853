"""Demo seed: the demo tenant's stores, branches and warehouse."""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.locations import Geo, LocationWrite, upsert_location
from mercato.simulation import generate_locations

DEMO_SEED = 42


async def seed_locations(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        for doc in generate_locations(DEMO_SEED):
            geo = doc.get("geo")
            await upsert_location(
                session,
                tenant_id,
                str(doc["code"]),
                LocationWrite(
                    name=str(doc["name"]),
                    kind=doc["kind"],
                    address=doc.get("address"),
                    timezone=doc.get("timezone"),
                    geo=Geo(lat=geo["lat"], lon=geo["lon"]) if geo else None,
                ),
            )


STEPS = [SeedStep("locations.demo_locations", 15, seed_locations)]
