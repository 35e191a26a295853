"""Tell a merchant when their shoppers' satisfaction dropped under their threshold.

A tenant that set `satisfaction_alert_below` (an average rating, 1 to 5) in its settings
gets `feedback.satisfaction_low` when the average of the last `WINDOW` of ratings is
under it, with at least `MIN_RATINGS` ratings (fewer say little). Checked daily
(jobs.py); the occurrence is the ISO week, so a lasting drop notifies once a week.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from mercato.kernel.db import get_database
from mercato.kernel.events import emit
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.feedback.models import Feedback
from mercato.modules.identity import active_tenant_ids, tenant_setting

SATISFACTION_LOW = "feedback.satisfaction_low"
SETTING = "satisfaction_alert_below"
WINDOW = timedelta(days=7)
MIN_RATINGS = 5


async def alert_if_unsatisfied(tenant_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Emit `feedback.satisfaction_low` if the week's average is under the tenant's
    threshold; returns whether it is."""
    now = now or datetime.now(UTC)
    async with get_database().tenant_session(tenant_id) as session:
        threshold = await tenant_setting(session, tenant_id, SETTING)
        if threshold is None:
            return False
        count, average = (
            await session.execute(
                select(func.count(), func.avg(Feedback.rating)).where(
                    Feedback.tenant_id == tenant_id, Feedback.created_at >= now - WINDOW
                )
            )
        ).one()
        if count < MIN_RATINGS or average is None or float(average) >= float(threshold):
            return False
        year, week, _ = now.isocalendar()
        await emit(
            session,
            tenant_id,
            SATISFACTION_LOW,
            {
                "id": f"{year}-W{week:02d}",
                "average": round(float(average), 2),
                "threshold": float(threshold),
                "ratings": count,
                "summary": f"Average rating {float(average):.2f} over the last 7 days, "
                f"under your alert threshold of {float(threshold):g}",
            },
        )
        return True


async def alert_unsatisfied_tenants() -> int:
    """Check every active tenant (one failing stops no other); returns how many alerted."""
    alerted = await for_each_tenant(
        "satisfaction_alerts", await active_tenant_ids(), alert_if_unsatisfied
    )
    return sum(alerted.values())
