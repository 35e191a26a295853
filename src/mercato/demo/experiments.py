"""Demo seed: a running A/B/n experiment on the demo shop's product pages (the blend as
control against plain content-based similarity and trending products, with revenue per
user as a guardrail), so every arm's results fill up as the simulator sends traffic."""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.experiments import (
    Arm,
    ExperimentCreate,
    create_experiment,
    move,
    running_experiment,
)

DEMO_EXPERIMENT = ExperimentCreate(
    name="Blend vs similar vs trending on product pages",
    placement="product_page",
    arms=[
        Arm(name="control", strategy="auto", weight=1),
        Arm(name="similar", strategy="content_based", weight=1),
        Arm(name="trending", strategy="trending", weight=1),
    ],
    metric="ctr",
    guardrails=["revenue_per_user"],
)


async def seed_experiment(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        if await running_experiment(session, tenant_id, DEMO_EXPERIMENT.placement) is None:
            experiment = await create_experiment(session, tenant_id, DEMO_EXPERIMENT)
            await move(session, tenant_id, experiment.id, "start")


STEPS = [SeedStep("experiments.demo_experiment", 61, seed_experiment)]
