"""The pilot's business metrics across tenants (operators only, via `platform_pilot_kpis`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.security import Principal
from mercato.modules.platform.schemas import (
    CategoryMapping,
    FeedPushes,
    PilotKpis,
    TenantCounts,
)

WEEK = timedelta(days=7)


def _share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole, 4)


async def pilot_kpis(session: AsyncSession, operator: Principal, *, days: int) -> PilotKpis:
    """Tenants, active staff, feed push success, category coverage, satisfaction, events.

    `days` is the window of the rates and counts; weekly active staff is always 7 days.
    Sources not installed yet (feeds, categories, events) come back null.
    """
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    row = (
        await session.execute(
            text("SELECT * FROM platform_pilot_kpis(:since, :week)"),
            {"since": since, "week": now - WEEK},
        )
    ).one()
    pushes = (
        FeedPushes(succeeded=row.feed_pushes_succeeded, failed=row.feed_pushes_failed)
        if row.feed_pushes_succeeded is not None
        else None
    )
    mapping = (
        CategoryMapping(mapped=row.categories_mapped, total=row.categories_total)
        if row.categories_total is not None
        else None
    )
    return PilotKpis(
        window_days=days,
        since=since,
        tenants=TenantCounts(
            total=row.tenants_total, active=row.tenants_active, suspended=row.tenants_suspended
        ),
        active_tenants=row.active_tenants,
        weekly_active_staff=row.weekly_active_staff,
        feed_push_success_rate=(
            _share(pushes.succeeded, pushes.succeeded + pushes.failed) if pushes else None
        ),
        feed_pushes=pushes,
        category_mapping_coverage=_share(mapping.mapped, mapping.total) if mapping else None,
        category_mapping=mapping,
        satisfaction_rate=_share(row.feedback_satisfied, row.feedback_count),
        feedback_count=row.feedback_count,
        feedback_satisfied=row.feedback_satisfied,
        events_ingested=row.events_ingested,
    )
