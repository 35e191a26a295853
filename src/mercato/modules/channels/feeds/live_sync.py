"""Live Merchant Center sync: a product created, changed, deleted, or whose stock changed,
reaches Google within the debounce window instead of waiting for the daily push.

The catalog's `product.*` events and inventory's `inventory.stock_changed` (subscribed only
for tenants with a Merchant Center account linked, so other tenants' checkouts defer no job)
add the products to the tenant's pending set and schedule one `channels.sync_feed` job
`feed_sync_debounce_s` later; changes in the meantime join that job. Jobs of one tenant
share a procrastinate lock, so two never run at once.

The job takes the products pending since before it started and syncs them to every linked
account (`sync.sync_products`), then deletes the local inventories of stores that closed.
A product leaves the pending set only once synced: when Google answers 429 with a
`Retry-After` beyond the client's patience, or cannot be reached, the job schedules itself
again (after the `Retry-After`, else `feed_sync_retry_s`) rather than sleeping.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, exists, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import egress
from mercato.kernel.db import get_database
from mercato.kernel.errors import DomainError
from mercato.kernel.events import subscribe
from mercato.kernel.jobs import defer
from mercato.kernel.logging import get_logger
from mercato.modules.catalog import PRODUCT_CREATED, PRODUCT_DELETED, PRODUCT_UPDATED
from mercato.modules.channels.feeds.merchant_api import (
    MerchantApiClient,
    MerchantTarget,
    RetryPolicy,
)
from mercato.modules.channels.feeds.merchant_links import list_merchant_links, target
from mercato.modules.channels.feeds.stores import linked_stores
from mercato.modules.channels.feeds.sync import SyncResult, close_stores, sync_products
from mercato.modules.channels.google import GoogleCredentials, GoogleUnavailable, get_link
from mercato.modules.channels.models import FeedSyncPending, FeedSyncSchedule, GoogleMerchantLink
from mercato.modules.channels.taxonomy import loaded_taxonomy
from mercato.modules.inventory import STOCK_CHANGED_EVENT
from mercato.settings import get_settings

BATCH = 500
HTTP_TIMEOUT_S = 30.0
SYNC_TASK = "channels.sync_feed"
_EARLY_S = 1.0
LOCATION_EVENTS = ("location.created", "location.updated")

log = get_logger("mercato.channels.live_sync")


async def has_merchant_account(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether a live sync has anywhere to go: the tenant linked a Merchant Center account."""
    linked = await session.scalar(select(exists().where(GoogleMerchantLink.tenant_id == tenant_id)))
    return bool(linked)


@subscribe(PRODUCT_CREATED, has_merchant_account)
@subscribe(PRODUCT_UPDATED, has_merchant_account)
@subscribe(PRODUCT_DELETED, has_merchant_account)
@subscribe(STOCK_CHANGED_EVENT, has_merchant_account)
async def products_changed(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    product_ids = [str(product_id) for product_id in payload.get("product_ids") or []]
    async with get_database().tenant_session(tenant_id) as session:
        await note_changes(session, tenant_id, product_ids)


@subscribe(LOCATION_EVENTS[0], has_merchant_account)
@subscribe(LOCATION_EVENTS[1], has_merchant_account)
async def location_changed(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """A location archived stops being a store: the next sync deletes its local inventory."""
    async with get_database().tenant_session(tenant_id) as session:
        await note_changes(session, tenant_id, [])


async def note_changes(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Sequence[str]
) -> None:
    """Add `product_ids` to the pending set and make sure a sync is scheduled."""
    if product_ids:
        statement = text(
            "INSERT INTO feed_sync_pending (tenant_id, product_id) "
            "SELECT :tenant, unnest(CAST(:products AS text[])) "
            "ON CONFLICT (tenant_id, product_id) DO UPDATE SET changed_at = now()"
        )
        await session.execute(
            statement, {"tenant": tenant_id, "products": sorted(set(product_ids))}
        )
    await schedule_sync(session, tenant_id, get_settings().feed_sync_debounce_s, replace=False)


async def schedule_sync(
    session: AsyncSession, tenant_id: uuid.UUID, delay_s: float, *, replace: bool
) -> None:
    """Defer a sync `delay_s` from now unless one waits already (`replace`: move it there)."""
    due_at = datetime.now(UTC) + timedelta(seconds=delay_s)
    statement = insert(FeedSyncSchedule).values(tenant_id=tenant_id, due_at=due_at)
    keys = [FeedSyncSchedule.tenant_id]
    statement = (
        statement.on_conflict_do_update(index_elements=keys, set_={"due_at": due_at})
        if replace
        else statement.on_conflict_do_nothing(index_elements=keys)
    )
    scheduled = await session.scalar(statement.returning(FeedSyncSchedule.tenant_id))
    if scheduled is not None:
        await defer(
            session,
            SYNC_TASK,
            delay_s=delay_s,
            lock=f"feed-sync:{tenant_id}",
            tenant_id=str(tenant_id),
        )


async def run_sync(tenant_id: uuid.UUID) -> SyncResult | None:
    """Sync the tenant's pending products to every linked account; None when this job had
    nothing to do (another is due later, or there is no active link)."""
    started = datetime.now(UTC)
    async with get_database().tenant_session(tenant_id) as session:
        due_at = await session.scalar(
            select(FeedSyncSchedule.due_at)
            .where(FeedSyncSchedule.tenant_id == tenant_id)
            .with_for_update()
        )
        if due_at is not None and due_at > started + timedelta(seconds=_EARLY_S):
            return None  # superseded: the sync was moved later (Google's quota)
        await session.execute(
            delete(FeedSyncSchedule).where(FeedSyncSchedule.tenant_id == tenant_id)
        )
        link = await get_link(session, tenant_id)
        targets = [target(row) for row in await list_merchant_links(session)]
        pending = list(
            await session.scalars(
                select(FeedSyncPending.product_id)
                .where(
                    FeedSyncPending.tenant_id == tenant_id, FeedSyncPending.changed_at <= started
                )
                .order_by(FeedSyncPending.product_id)
            )
        )
        if link is None or link.status != "active" or not targets:
            await _done(session, tenant_id, pending, started)
            return None
        taxonomy = await loaded_taxonomy(session)
        stores = await linked_stores(session, tenant_id)
    known = taxonomy.known_ids if taxonomy else None
    try:
        result = await _sync(tenant_id, targets, pending, started, known, stores)
    except (GoogleUnavailable, httpx.TransportError) as exc:
        log.info(
            "feed_sync_unreachable", tenant_id=str(tenant_id), error=egress.public_message(exc)
        )
        await _again(tenant_id, get_settings().feed_sync_retry_s)
        return None
    except DomainError as exc:  # the link was revoked: the daily push reconciles once relinked
        log.info("feed_sync_stopped", tenant_id=str(tenant_id), error=exc.detail)
        async with get_database().tenant_session(tenant_id) as session:
            await _done(session, tenant_id, pending, started)
        return None
    if result.retry_after is not None:
        log.info("feed_sync_quota", tenant_id=str(tenant_id), retry_after=result.retry_after)
        await _again(tenant_id, result.retry_after)
    return result


async def _sync(
    tenant_id: uuid.UUID,
    targets: list[MerchantTarget],
    pending: list[str],
    started: datetime,
    known: frozenset[int] | set[int] | None,
    stores: dict[str, str],
) -> SyncResult:
    settings = get_settings()
    credentials = GoogleCredentials(tenant_id)
    await credentials()
    total = SyncResult()
    async with egress.http_client(timeout_s=HTTP_TIMEOUT_S) as http:
        client = MerchantApiClient(
            http,
            credentials,
            base_url=settings.google_merchant_api_url,
            concurrency=settings.feed_push_concurrency,
            retry=RetryPolicy(
                max_attempts=settings.feed_push_max_attempts,
                base_delay=settings.feed_push_backoff_base_s,
                max_delay=settings.feed_push_backoff_max_s,
            ),
        )
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            for merchant in targets:
                total.add(
                    await sync_products(
                        tenant_id, client, merchant, chunk, known_categories=known, stores=stores
                    )
                )
            if total.retry_after is not None:
                return total
            async with get_database().tenant_session(tenant_id) as session:
                await _done(session, tenant_id, chunk, started)
        for merchant in targets:
            total.add(await close_stores(tenant_id, client, merchant, stores))
    log.info(
        "feed_sync_done",
        tenant_id=str(tenant_id),
        inserted=total.inserted,
        deleted=total.deleted,
        failed=total.failed,
        local_inserted=total.local_inserted,
        local_deleted=total.local_deleted,
    )
    return total


async def _done(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Sequence[str], started: datetime
) -> None:
    """Synced: drop from the pending set unless changed again since the job started."""
    if product_ids:
        await session.execute(
            delete(FeedSyncPending).where(
                FeedSyncPending.tenant_id == tenant_id,
                FeedSyncPending.product_id.in_(list(product_ids)),
                FeedSyncPending.changed_at <= started,
            )
        )


async def _again(tenant_id: uuid.UUID, delay_s: float) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await schedule_sync(session, tenant_id, delay_s, replace=True)
