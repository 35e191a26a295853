"""Run one feed push job: check every product, push the valid ones, record each outcome.

queued → processing (claimed under a row lock, so two workers never run one job) → success
or failed. Products stream from the catalog; each is prechecked (an item with an error is
`skipped`, its issue codes recorded) and the valid ones go to the Merchant API in batches
of `BATCH` with the client's concurrency limit and per-item retries. After every batch the
outcomes are committed (progress is visible while the job runs) and the job is re-read, so
a cancellation by staff stops the push at the next batch boundary.

What each account then holds is remembered per item (`merchant_items`), so the live sync
skips products whose input did not change. A job that pushed everything also reconciles the
account (`reconcile`): it sends every valid product's local inventory per linked store,
deletes the products Mercato no longer offers and the local inventories of closed stores.

A job fails as a whole when the Google link is missing or revoked (at once), when Google
cannot be reached (queued again with backoff until `max_attempts`), or when Google
rejected every item it was sent. A failure emits `feed_job.failed` `{job_id, error}`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import egress
from mercato.kernel.db import after_commit, get_database
from mercato.kernel.errors import DomainError
from mercato.kernel.events import emit
from mercato.kernel.jobs import defer
from mercato.kernel.logging import get_logger
from mercato.modules.channels.events import FEED_JOB_FAILED, FEED_JOB_FAILED_AGAIN
from mercato.modules.channels.feeds.item import FeedItem
from mercato.modules.channels.feeds.merchant_api import (
    MerchantApiClient,
    MerchantTarget,
    PushOutcome,
    RetryPolicy,
    product_input,
)
from mercato.modules.channels.feeds.merchant_items import content_hash, record_pushed
from mercato.modules.channels.feeds.merchant_links import target
from mercato.modules.channels.feeds.precheck import blocks_item, check_item
from mercato.modules.channels.feeds.source import feed_items
from mercato.modules.channels.feeds.stores import linked_stores
from mercato.modules.channels.feeds.sync import (
    SyncResult,
    close_stores,
    remove_stale,
    sync_products,
)
from mercato.modules.channels.feeds.telemetry import FEED_PUSHES, count_items
from mercato.modules.channels.google import GoogleCredentials, GoogleUnavailable
from mercato.modules.channels.models import FeedPushItem, FeedPushJob, GoogleMerchantLink
from mercato.modules.channels.taxonomy import loaded_taxonomy
from mercato.settings import get_settings

BATCH = 500
HTTP_TIMEOUT_S = 30.0
RETRY_BASE_S = 60.0
RETRY_MAX_S = 3600.0

log = get_logger("mercato.channels.push")


class _Cancelled(Exception):
    """Staff cancelled the job while it ran."""


async def run_push(tenant_id: uuid.UUID, job_id: uuid.UUID) -> None:
    """Process job `job_id` if it is queued; any other state means there is nothing to do."""
    merchant = await _claim(tenant_id, job_id)
    if merchant is None:
        return
    try:
        await _push_all(tenant_id, job_id, merchant)
    except _Cancelled:
        log.info("feed_push_cancelled", job_id=str(job_id))
        return
    except (GoogleUnavailable, httpx.TransportError) as exc:
        await _retry_later(tenant_id, job_id, _describe(exc))
        return
    except DomainError as exc:
        await _finish(tenant_id, job_id, error=exc.detail)
        return
    except asyncio.CancelledError:  # the task's timeout: record it, then let it unwind
        await asyncio.shield(
            _finish(tenant_id, job_id, error="The push ran past the job's time limit")
        )
        raise
    await _finish(tenant_id, job_id, error=None)


def _describe(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    log.info("feed_push_transport_failed", error=repr(exc))
    return f"Merchant API: {egress.public_message(exc)}"


async def _claim(tenant_id: uuid.UUID, job_id: uuid.UUID) -> MerchantTarget | None:
    async with get_database().tenant_session(tenant_id) as session:
        job = await session.scalar(
            select(FeedPushJob)
            .where(FeedPushJob.tenant_id == tenant_id, FeedPushJob.id == job_id)
            .with_for_update(skip_locked=True)
        )
        if job is None or job.status != "queued":
            return None
        link = await session.get(GoogleMerchantLink, (tenant_id, job.account_id))
        now = datetime.now(UTC)
        if link is None:
            job.status, job.finished_at = "failed", now
            job.error = f"The Merchant Center account {job.account_id} is no longer linked"
            await _emit_failure(session, job)
            after_commit(session, _count_push("failed"))
            return None
        job.status, job.started_at, job.finished_at = "processing", now, None
        job.attempts += 1
        job.next_attempt_at = job.error = None
        return target(link)


async def _push_all(tenant_id: uuid.UUID, job_id: uuid.UUID, merchant: MerchantTarget) -> None:
    settings = get_settings()
    credentials = GoogleCredentials(tenant_id)
    await credentials()  # a revoked link fails the job before any product is read
    retry = RetryPolicy(
        max_attempts=settings.feed_push_max_attempts,
        base_delay=settings.feed_push_backoff_base_s,
        max_delay=settings.feed_push_backoff_max_s,
    )
    database = get_database()
    async with (
        egress.http_client(timeout_s=HTTP_TIMEOUT_S) as http,
        database.tenant_session(tenant_id) as reader,
    ):
        client = MerchantApiClient(
            http,
            credentials,
            base_url=settings.google_merchant_api_url,
            concurrency=settings.feed_push_concurrency,
            retry=retry,
        )
        taxonomy = await loaded_taxonomy(reader)
        known = taxonomy.known_ids if taxonomy else None
        stores = await linked_stores(reader, tenant_id)
        offered: list[str] = []
        valid: list[FeedItem] = []
        skipped: list[tuple[str, str]] = []
        async for item in feed_items(reader, tenant_id):
            issues = check_item(item, known)
            if blocks_item(issues):
                codes = sorted({issue.code for issue in issues if issue.severity == "error"})
                skipped.append((item.product_id, ", ".join(codes)))
            else:
                valid.append(item)
                offered.append(item.product_id)
            if len(valid) + len(skipped) >= BATCH:
                await _push_batch(tenant_id, job_id, client, merchant, valid, skipped)
                valid, skipped = [], []
        await _push_batch(tenant_id, job_id, client, merchant, valid, skipped)
        await reconcile(tenant_id, client, merchant, offered, known, stores)


async def reconcile(
    tenant_id: uuid.UUID,
    client: MerchantApiClient,
    merchant: MerchantTarget,
    offered: Sequence[str],
    known: frozenset[int] | None,
    stores: dict[str, str],
) -> SyncResult:
    """After a full push: local inventories of every offered product, then delete what
    Mercato no longer offers and what closed stores advertised. Quota trouble here is left
    to the next live sync or daily push (the job's products are pushed already)."""
    total = SyncResult()
    for start in range(0, len(offered), BATCH):
        chunk = offered[start : start + BATCH]
        total.add(
            await sync_products(
                tenant_id,
                client,
                merchant,
                chunk,
                known_categories=known,
                stores=stores,
                products=False,
            )
        )
    total.add(await remove_stale(tenant_id, client, merchant, keep=offered))
    total.add(await close_stores(tenant_id, client, merchant, stores))
    log.info(
        "feed_reconciled",
        account_id=merchant.account_id,
        local_inserted=total.local_inserted,
        deleted=total.deleted,
        local_deleted=total.local_deleted,
        failed=total.failed,
    )
    return total


async def _push_batch(
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    client: MerchantApiClient,
    merchant: MerchantTarget,
    valid: Sequence[FeedItem],
    skipped: Sequence[tuple[str, str]],
) -> None:
    outcomes = await client.push(merchant, valid) if valid else []
    rows = [_outcome_row(tenant_id, job_id, outcome) for outcome in outcomes]
    rows += [
        {
            "tenant_id": tenant_id,
            "job_id": job_id,
            "product_id": product_id,
            "outcome": "skipped",
            "attempts": 0,
            "status_code": None,
            "error": f"precheck: {codes}",
        }
        for product_id, codes in skipped
    ]
    pushed = [
        (item.product_id, content_hash(product_input(item, merchant)), outcome.error)
        for item, outcome in zip(valid, outcomes, strict=True)
    ]
    async with get_database().tenant_session(tenant_id) as session:
        job = await session.get(FeedPushJob, (tenant_id, job_id), with_for_update=True)
        await record_pushed(session, tenant_id, merchant.account_id, pushed)
        if rows:
            statement = insert(FeedPushItem).values(rows)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[
                        FeedPushItem.tenant_id,
                        FeedPushItem.job_id,
                        FeedPushItem.product_id,
                    ],
                    set_={
                        name: statement.excluded[name]
                        for name in ("outcome", "attempts", "status_code", "error")
                    }
                    | {"updated_at": func.now()},
                )
            )
        cancelled = job is None or job.status != "processing"
        if job is not None and not cancelled:
            await _count_items(session, job)
    count_items(Tally(row["outcome"] for row in rows))
    if cancelled:  # raised after the commit, so the batch's outcomes are kept
        raise _Cancelled


def _outcome_row(tenant_id: uuid.UUID, job_id: uuid.UUID, outcome: PushOutcome) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "job_id": job_id,
        "product_id": outcome.product_id,
        "outcome": "pushed" if outcome.ok else "failed",
        "attempts": outcome.attempts,
        "status_code": outcome.status_code,
        "error": outcome.error,
    }


async def _count_items(session: AsyncSession, job: FeedPushJob) -> None:
    """The job's counters, from its item rows (one aggregate; a retry overwrites rows)."""

    def count(outcome: str) -> Any:
        return func.count(case((FeedPushItem.outcome == outcome, 1)))

    checked, skipped, pushed, failed = (
        await session.execute(
            select(func.count(), count("skipped"), count("pushed"), count("failed")).where(
                FeedPushItem.tenant_id == job.tenant_id, FeedPushItem.job_id == job.id
            )
        )
    ).one()
    job.items_checked, job.items_skipped = checked, skipped
    job.items_succeeded, job.items_failed = pushed, failed


async def _first_error(session: AsyncSession, job: FeedPushJob) -> str | None:
    error: str | None = await session.scalar(
        select(FeedPushItem.error)
        .where(
            FeedPushItem.tenant_id == job.tenant_id,
            FeedPushItem.job_id == job.id,
            FeedPushItem.outcome == "failed",
        )
        .order_by(FeedPushItem.product_id)
        .limit(1)
    )
    return error


async def _finish(tenant_id: uuid.UUID, job_id: uuid.UUID, *, error: str | None) -> None:
    """success, or failed with `error`; a job Google rejected entirely failed too."""
    async with get_database().tenant_session(tenant_id) as session:
        job = await session.get(FeedPushJob, (tenant_id, job_id), with_for_update=True)
        if job is None or job.status != "processing":
            return
        await _count_items(session, job)
        if error is None and job.items_failed and not job.items_succeeded:
            first = await _first_error(session, job)
            error = f"Google rejected all {job.items_failed} items sent; the first: {first}"
        job.status = "failed" if error else "success"
        job.error = error[:2000] if error else None
        job.finished_at = datetime.now(UTC)
        if job.status == "failed":
            await _emit_failure(session, job)
        after_commit(session, _count_push(job.status))


async def _retry_later(tenant_id: uuid.UUID, job_id: uuid.UUID, error: str) -> None:
    """Google could not be reached: queue the job again with backoff, or fail it for good."""
    async with get_database().tenant_session(tenant_id) as session:
        job = await session.get(FeedPushJob, (tenant_id, job_id), with_for_update=True)
        if job is None or job.status != "processing":
            return
        if job.attempts >= job.max_attempts:
            job.status, job.finished_at = "failed", datetime.now(UTC)
            job.error = f"Gave up after {job.attempts} attempts: {error}"
            await _emit_failure(session, job)
            after_commit(session, _count_push("failed"))
            return
        wait = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (job.attempts - 1))
        job.status, job.error = "queued", f"Attempt {job.attempts} failed: {error}"
        job.next_attempt_at = datetime.now(UTC) + timedelta(seconds=wait)
        await session.flush()
        await defer(
            session,
            "channels.push_feed",
            delay_s=wait,
            tenant_id=str(tenant_id),
            job_id=str(job_id),
        )
        after_commit(session, _count_push("retried"))


def _count_push(outcome: str) -> Callable[[], Awaitable[None]]:
    async def count() -> None:
        FEED_PUSHES.labels(outcome).inc()

    return count


async def _emit_failure(session: AsyncSession, job: FeedPushJob) -> None:
    """`feed_job.failed`, and `feed_job.failed_again` when the account's previous push
    (the newest other finished one) failed too."""
    await emit(session, job.tenant_id, FEED_JOB_FAILED, _payload(job))
    previous = await session.scalar(
        select(FeedPushJob.status)
        .where(
            FeedPushJob.tenant_id == job.tenant_id,
            FeedPushJob.account_id == job.account_id,
            FeedPushJob.id != job.id,
            FeedPushJob.status.in_(("success", "failed")),
            FeedPushJob.finished_at.is_not(None),
        )
        .order_by(FeedPushJob.finished_at.desc())
        .limit(1)
    )
    if previous == "failed":
        payload = {
            "job_id": str(job.id),
            "account_id": job.account_id,
            "error": job.error,
            "id": job.account_id,
            "occurrence_id": str(job.id),
            "summary": f"Feed pushes to Merchant Center account {job.account_id} "
            "failed twice in a row",
        }
        await emit(session, job.tenant_id, FEED_JOB_FAILED_AGAIN, payload)


def _payload(job: FeedPushJob) -> dict[str, str | int | None]:
    """`{job_id, error}` and what notifications need besides (`id`, `summary`, `attempts`)."""
    return {
        "job_id": str(job.id),
        "error": job.error,
        "id": str(job.id),
        "summary": f"The push to Merchant Center account {job.account_id} failed",
        "attempts": job.attempts,
    }
