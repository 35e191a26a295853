"""Report settings made by the system rather than a principal (the demo shop's)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.reports.models import ReportRecipient, ReportSchedule


async def seed_report_settings(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    recipients: Mapping[str, str],
    weekly_hour: int,
    weekday: int,
) -> None:
    """Each location code of `recipients` that has no recipient yet gets that e-mail, and
    a weekly schedule is added when there is none (existing settings are kept)."""
    existing = set(await session.scalars(select(ReportRecipient.location_code)))
    for code, email in recipients.items():
        if code not in existing:
            session.add(ReportRecipient(tenant_id=tenant_id, location_code=code, email=email))
    if await session.get(ReportSchedule, (tenant_id, "weekly")) is None:
        session.add(
            ReportSchedule(
                tenant_id=tenant_id,
                frequency="weekly",
                hour=weekly_hour,
                weekday=weekday,
                enabled=True,
            )
        )
