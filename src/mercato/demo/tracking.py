"""Demo seed: 90 days of simulated shoppers for the demo tenant, through real ingestion.

Same arguments as `mercato simulate --days 90 --users 5000 --products 500 --seed 42`, and
the same catalog and locations seed the other demo steps use, so product ids and location
codes in the events match the demo catalog. Event ids are stable, so a step interrupted
half-way and run again stores each event once.
"""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.simulation import simulate_into

DEMO_SEED = 42
DEMO_DAYS = 90
DEMO_USERS = 5000
DEMO_PRODUCTS = 500


async def seed_events(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    outcome = await simulate_into(
        context.database,
        tenant_id,
        days=DEMO_DAYS,
        users=DEMO_USERS,
        products=DEMO_PRODUCTS,
        seed=DEMO_SEED,
    )
    context.notes.append(f"  events:    {outcome.accepted:,} simulated over {DEMO_DAYS} days")


STEPS = [SeedStep("tracking.demo_events", 40, seed_events)]
