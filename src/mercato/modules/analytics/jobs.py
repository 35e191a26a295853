"""Analytics jobs: roll up every tenant each minute, rebuild days after imports and nightly."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mercato.kernel.db import get_database
from mercato.kernel.events import subscribe
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.permissions import Permission
from mercato.kernel.security import PrincipalKind, TenantPrincipal
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.analytics import rollup, service
from mercato.modules.analytics.schemas import Granularity, Metric
from mercato.modules.identity import active_tenant_ids
from mercato.settings import get_settings

log = get_logger("mercato.analytics.jobs")
# Rollup version each tenant's dashboard answers were last warmed at (per worker process;
# a restart warms once more, which is harmless).
_warmed: dict[uuid.UUID, int] = {}


async def roll_up_tenant(tenant_id: uuid.UUID, *, now: datetime | None = None) -> datetime:
    """One incremental run for one tenant, in its own transaction; returns the watermark."""
    rolled_until, _ = await _roll_up(tenant_id, now)
    return rolled_until


async def _roll_up(tenant_id: uuid.UUID, now: datetime | None) -> tuple[datetime, int]:
    async with get_database().tenant_session(tenant_id) as session:
        return await rollup.roll_up(
            session, tenant_id, now=now, lag_s=get_settings().analytics_rollup_lag_s
        )


async def rebuild_tenant_days(tenant_id: uuid.UUID, first: date, last: date) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await rollup.rebuild_days(session, tenant_id, first, last)


async def warm_dashboard(tenant_id: uuid.UUID) -> None:
    """Compute the overview's default answers once, so dashboards read them from Redis."""
    principal = TenantPrincipal(
        kind=PrincipalKind.api_key,
        subject_id=uuid.UUID(int=0),
        permissions=frozenset({Permission.ANALYTICS_READ}),
        tenant_id=tenant_id,
    )
    # On the primary, which the rollup just committed to: the answers cached are those of
    # the new rollup version, which a replica may not have replayed yet.
    async with get_database().tenant_session(tenant_id) as session:
        await service.overview(session, principal, start=None, end=None, compare=True)
        for metric in (Metric.revenue, Metric.sessions):
            await service.timeseries(
                session,
                principal,
                metric=metric,
                start=None,
                end=None,
                granularity=Granularity.day,
            )
        await service.funnel(session, principal, start=None, end=None)


@periodic("* * * * *", periodic_id="analytics-rollup")
@task("analytics.roll_up", queue="analytics", timeout_s=900)
async def roll_up_all(*, timestamp: int) -> None:
    """Every minute: add each tenant's new events to the rollups, then warm the cache."""

    async def roll_up_and_warm(tenant_id: uuid.UUID) -> None:
        _, version = await _roll_up(tenant_id, None)
        if version != _warmed.get(tenant_id):
            await warm_dashboard(tenant_id)
            _warmed[tenant_id] = version

    await for_each_tenant("analytics_rollup", await active_tenant_ids(), roll_up_and_warm)


@periodic("40 2 * * *", periodic_id="analytics-reconcile")
@task("analytics.reconcile", queue="analytics", timeout_s=3_600)
async def reconcile_recent_days(*, timestamp: int) -> None:
    """Nightly: rebuild the last two days, picking up late events with old timestamps."""
    today = datetime.now(UTC).date()

    async def rebuild(tenant_id: uuid.UUID) -> None:
        await rebuild_tenant_days(tenant_id, today - timedelta(days=2), today)

    await for_each_tenant("analytics_reconcile", await active_tenant_ids(), rebuild)


@subscribe("tracking.events_replaced")
async def rebuild_after_import(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """An import replaced a date range of events: recompute those days (one day of margin
    each side, since local days and UTC days differ)."""
    first = date.fromisoformat(payload["start"]) - timedelta(days=1)
    last = date.fromisoformat(payload["end"]) + timedelta(days=1)
    await rebuild_tenant_days(tenant_id, first, last)
