"""Demo seed: roll up the simulated history so the overview shows figures at start-up."""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.analytics import roll_up_tenant


async def seed_rollups(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    rolled_until = await roll_up_tenant(tenant_id)
    context.notes.append(f"  analytics: rolled up to {rolled_until:%Y-%m-%d %H:%M} UTC")


STEPS = [SeedStep("analytics.demo_rollups", 45, seed_rollups)]
