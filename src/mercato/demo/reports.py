"""Demo seed: each store and branch sends its report to its manager, weekly on Mondays."""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.locations import list_locations
from mercato.modules.reports import seed_report_settings

DEMO_HOUR = 7


async def seed_reports(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        branches = [loc for loc in await list_locations(session) if loc.kind in ("store", "branch")]
        recipients = {
            loc.code: f"manager.{loc.code.lower()}@nordic-home.example" for loc in branches
        }
        await seed_report_settings(
            session, tenant_id, recipients=recipients, weekly_hour=DEMO_HOUR, weekday=0
        )
    context.notes.append(
        f"  reports:   {len(branches)} branches mapped, weekly on Mondays at {DEMO_HOUR}:00"
    )


STEPS = [SeedStep("reports.demo_reports", 46, seed_reports)]
