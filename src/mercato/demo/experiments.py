"""Demo seed: a running experiment on the demo shop's product pages (the blend against
plain content-based similarity), so results fill up as the simulator sends traffic."""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.experiments import (
    ExperimentCreate,
    create_experiment,
    move,
    running_experiment,
)

DEMO_EXPERIMENT = ExperimentCreate(
    name="Blend vs similar products on product pages",
    placement="product_page",
    control_strategy="auto",
    variant_strategy="content_based",
    traffic_split=50,
    metric="ctr",
)


async def seed_experiment(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        if await running_experiment(session, tenant_id, DEMO_EXPERIMENT.placement) is None:
            experiment = await create_experiment(session, tenant_id, DEMO_EXPERIMENT)
            await move(session, tenant_id, experiment.id, "start")


STEPS = [SeedStep("experiments.demo_experiment", 61, seed_experiment)]
