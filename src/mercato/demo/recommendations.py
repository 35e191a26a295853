"""Demo seed: the demo shop's first recommendation model, fitted once its catalog and
simulated events are in, so recommendations and widget previews answer from the start
(the worker refits it every 15 minutes after that)."""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.recommendations import DatabaseSource, fit_tenant


async def seed_model(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    outcome = await fit_tenant(tenant_id, DatabaseSource(context.settings.reco_history_days))
    if outcome.version is not None and not outcome.skipped:
        context.notes.append(
            f"  model:     version {outcome.version}, {outcome.events:,} events, "
            f"{outcome.products:,} products, fitted in {outcome.seconds:.1f}s"
        )


STEPS = [SeedStep("recommendations.demo_model", 50, seed_model)]
