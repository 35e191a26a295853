"""Demo seed: each store and branch sends its report to its manager, weekly on Mondays."""

from __future__ import annotations

from sqlalchemy import select

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.locations import list_locations
from mercato.modules.reports.models import ReportRecipient, ReportSchedule

DEMO_HOUR = 7


async def seed_reports(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        existing = set(await session.scalars(select(ReportRecipient.location_code)))
        branches = [loc for loc in await list_locations(session) if loc.kind in ("store", "branch")]
        for location in branches:
            if location.code in existing:
                continue
            email = f"manager.{location.code.lower()}@nordic-home.example"
            session.add(
                ReportRecipient(tenant_id=tenant_id, location_code=location.code, email=email)
            )
        if await session.get(ReportSchedule, (tenant_id, "weekly")) is None:
            session.add(
                ReportSchedule(
                    tenant_id=tenant_id, frequency="weekly", hour=DEMO_HOUR, weekday=0, enabled=True
                )
            )
    context.notes.append(
        f"  reports:   {len(branches)} branches mapped, weekly on Mondays at {DEMO_HOUR}:00"
    )


STEPS = [SeedStep("reports.demo_reports", 46, seed_reports)]
