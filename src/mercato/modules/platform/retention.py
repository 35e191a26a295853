"""Retention: history older than its window is deleted by a daily job.

| data | window | setting |
|---|---|---|
| finished jobs (procrastinate) and `job_failure` | 90 days | `MERCATO_JOB_HISTORY_DAYS` |
| sent or failed mail (`mail_outbox`) | 1 year | `MERCATO_MAIL_HISTORY_DAYS` |
| notification delivery log | 1 year | `MERCATO_NOTIFICATION_HISTORY_DAYS` |
| behavioural events | 2 years | tenant `event_retention_days`, or `MERCATO_EVENT_RETENTION_DAYS` |
| shared blobs with an expiry (a product upload never imported) | its `expires_at` | — |
| shared blob writes abandoned midway | 1 day | — |

Queued mail and unfinished jobs are never deleted. Events belong to the tracking module:
they are expired through `platform_expire_events`, which calls its
`platform_source_expire_events` hook (0 rows until the events table exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from mercato.kernel.blobs import shared_blobs
from mercato.kernel.db import get_database
from mercato.kernel.jobs import job_app
from mercato.modules.identity import TenantFacts, live_tenants
from mercato.modules.notifications import expire_deliveries
from mercato.settings import Settings


@dataclass
class RetentionReport:
    job_failures: int = 0
    mails: int = 0
    notification_deliveries: int = 0
    events: dict[str, int] = field(default_factory=dict)
    blobs: int = 0


def event_cutoff(tenant: TenantFacts, settings: Settings, now: datetime) -> datetime:
    days = tenant.settings.get("event_retention_days") or settings.event_retention_days
    return now - timedelta(days=int(days))


async def _expire_tenant_data(
    tenant: TenantFacts, settings: Settings, now: datetime, report: RetentionReport
) -> None:
    async with get_database().tenant_session(tenant.id) as session:
        report.notification_deliveries += await expire_deliveries(
            session, before=now - timedelta(days=settings.notification_history_days)
        )
        events = await session.scalar(
            text("SELECT platform_expire_events(:tenant, :before)"),
            {"tenant": tenant.id, "before": event_cutoff(tenant, settings, now)},
        )
        if events:
            report.events[str(tenant.id)] = int(events)
    report.blobs += await shared_blobs().sweep(tenant.id, now)


async def enforce_retention(settings: Settings, now: datetime | None = None) -> RetentionReport:
    """Delete what has outlived its window; one transaction per table group and tenant."""
    now = now or datetime.now(UTC)
    report = RetentionReport()
    await job_app.job_manager.delete_old_jobs(
        nb_hours=settings.job_history_days * 24,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )
    async with get_database().session() as session:
        row = (
            await session.execute(
                text("SELECT * FROM platform_enforce_retention(:jobs, :mail)"),
                {
                    "jobs": now - timedelta(days=settings.job_history_days),
                    "mail": now - timedelta(days=settings.mail_history_days),
                },
            )
        ).one()
        report.job_failures, report.mails = int(row.job_failures), int(row.mails)
    for tenant in await live_tenants():
        await _expire_tenant_data(tenant, settings, now, report)
    return report
