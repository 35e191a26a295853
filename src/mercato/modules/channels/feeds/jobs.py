"""Feed jobs: run a feed push, push every linked tenant daily, keep per-item push results
for 30 days, run the debounced live sync (`live_sync`, whose event handlers register here),
and read Google's item statuses back every hour."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from mercato.kernel import egress
from mercato.kernel.db import get_database
from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.kernel.tenant_runs import for_each_tenant
from mercato.modules.channels.feeds.item_status import STATUS_TASK, read_statuses
from mercato.modules.channels.feeds.live_sync import SYNC_TASK, run_sync
from mercato.modules.channels.feeds.merchant_api import MerchantApiClient, MerchantApiError
from mercato.modules.channels.feeds.merchant_links import list_merchant_links, target
from mercato.modules.channels.feeds.push import HTTP_TIMEOUT_S, run_push
from mercato.modules.channels.feeds.push_jobs import ACTIVE, queue_push
from mercato.modules.channels.google import GoogleCredentials, get_link
from mercato.modules.channels.models import FeedPushItem, FeedPushJob
from mercato.modules.identity import active_tenant_ids
from mercato.settings import get_settings

QUEUE = "channels"
ITEM_RETENTION = timedelta(days=30)
SCHEDULER = "system:schedule"

log = get_logger("mercato.channels.jobs")


@task("channels.push_feed", queue=QUEUE, timeout_s=4 * 3600)
async def push_feed(*, tenant_id: str, job_id: str) -> None:
    await run_push(uuid.UUID(tenant_id), uuid.UUID(job_id))


@periodic("40 2 * * *", periodic_id="channels-daily-push")
@task("channels.daily_push", queue=QUEUE, timeout_s=3600)
async def daily_push(*, timestamp: int) -> None:
    """Queue a push for every linked Merchant Center account with daily pushes on."""
    tenants = await active_tenant_ids()
    queued = await for_each_tenant("feed_daily_push", tenants, _queue_daily_pushes)
    log.info("feed_daily_push_queued", jobs=sum(queued.values()))


async def _queue_daily_pushes(tenant_id: uuid.UUID) -> int:
    queued = 0
    async with get_database().tenant_session(tenant_id) as session:
        link = await get_link(session, tenant_id)
        if link is None or link.status != "active":
            return 0
        for merchant in await list_merchant_links(session):
            busy = await session.scalar(
                select(FeedPushJob.id).where(
                    FeedPushJob.account_id == merchant.account_id,
                    FeedPushJob.status.in_(ACTIVE),
                )
            )
            if merchant.daily_push and busy is None:
                await queue_push(
                    session,
                    tenant_id,
                    account_id=merchant.account_id,
                    requested_by=SCHEDULER,
                    trigger="schedule",
                )
                queued += 1
    return queued


@periodic("25 4 * * *", periodic_id="channels-push-item-retention")
@task("channels.prune_push_items", queue=QUEUE, timeout_s=3600)
async def prune_push_items(*, timestamp: int) -> None:
    """Drop per-item results of jobs finished more than 30 days ago (the jobs stay)."""
    cutoff = datetime.now(UTC) - ITEM_RETENTION

    async def prune(tenant_id: uuid.UUID) -> None:
        async with get_database().tenant_session(tenant_id) as session:
            old_jobs = select(FeedPushJob.id).where(FeedPushJob.finished_at < cutoff)
            await session.execute(delete(FeedPushItem).where(FeedPushItem.job_id.in_(old_jobs)))

    await for_each_tenant("feed_push_item_prune", await active_tenant_ids(), prune)


@task(SYNC_TASK, queue=QUEUE, timeout_s=3600)
async def sync_feed(*, tenant_id: str) -> None:
    await run_sync(uuid.UUID(tenant_id))


@periodic("15 * * * *", periodic_id="channels-item-statuses")
@task("channels.read_item_statuses", queue=QUEUE, timeout_s=3600)
async def read_item_statuses(*, timestamp: int) -> None:
    """Read Google's status of every item of every linked account, tenant by tenant."""
    read = await for_each_tenant(
        "feed_item_statuses", await active_tenant_ids(), read_tenant_statuses
    )
    log.info("feed_item_statuses_read", items=sum(read.values()))


@task(STATUS_TASK, queue=QUEUE, timeout_s=1800)
async def read_item_statuses_of(*, tenant_id: str) -> None:
    """One tenant's statuses now (the demo reads them once its first push ran)."""
    await read_tenant_statuses(uuid.UUID(tenant_id))


async def read_tenant_statuses(tenant_id: uuid.UUID) -> int:
    """Statuses of the tenant's items in each linked account; 0 without an active link.

    An account Google will not list (quota, an outage) keeps its last statuses until the
    next hour."""
    async with get_database().tenant_session(tenant_id) as session:
        link = await get_link(session, tenant_id)
        targets = [target(row) for row in await list_merchant_links(session)]
    if link is None or link.status != "active" or not targets:
        return 0
    listed = 0
    credentials = GoogleCredentials(tenant_id)
    async with egress.http_client(timeout_s=HTTP_TIMEOUT_S) as http:
        client = MerchantApiClient(
            http, credentials, base_url=get_settings().google_merchant_api_url
        )
        for merchant in targets:
            try:
                listed += await read_statuses(tenant_id, client, merchant)
            except MerchantApiError as exc:
                log.info(
                    "feed_item_statuses_unavailable",
                    tenant_id=str(tenant_id),
                    account_id=merchant.account_id,
                    status_code=exc.status_code,
                )
    return listed
