"""Feed push jobs as the merchant sees them: queue one, list them, cancel or retry one.

A job row is the record; the procrastinate task `channels.push_feed` only carries its id.
Queueing checks that a Google link exists (a push without one could only fail) and that
no other push to the same account is queued or running (a partial unique index makes
that hold under concurrency too).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.jobs import defer
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.channels.feeds.merchant_links import choose_merchant_link
from mercato.modules.channels.google import GoogleLinkRevoked, GoogleNotLinked, get_link
from mercato.modules.channels.models import FeedPushItem, FeedPushJob
from mercato.settings import get_settings

ACTIVE = ("queued", "processing")


class PushInProgress(Conflict):
    slug, title = "feed-push-in-progress", "A push to this account is already queued or running"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "The job cannot move to that status"


async def _active_job(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str
) -> FeedPushJob | None:
    found: FeedPushJob | None = await session.scalar(
        select(FeedPushJob).where(
            FeedPushJob.tenant_id == tenant_id,
            FeedPushJob.account_id == account_id,
            FeedPushJob.status.in_(ACTIVE),
        )
    )
    return found


async def queue_push(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    account_id: str | None,
    requested_by: str,
    trigger: str,
    delay_s: float = 0,
) -> FeedPushJob:
    """Create a queued job and enqueue its task (to start after `delay_s`) in the same
    transaction."""
    link = await get_link(session, tenant_id)
    if link is None:
        raise GoogleNotLinked("Link a Google account first: POST {T}/google/oauth/link")
    if link.status != "active":
        raise GoogleLinkRevoked(link.last_error or "The Google link was revoked; link again")
    merchant = await choose_merchant_link(session, tenant_id, account_id)
    running = await _active_job(session, tenant_id, merchant.account_id)
    if running is not None:
        raise PushInProgress(f"Job {running.id} is {running.status}", job_id=str(running.id))
    job = FeedPushJob(
        tenant_id=tenant_id,
        account_id=merchant.account_id,
        status="queued",
        trigger=trigger,
        requested_by=requested_by,
        attempts=0,
        max_attempts=get_settings().feed_job_max_attempts,
    )
    session.add(job)
    await session.flush()
    await session.refresh(job)
    await defer(
        session, "channels.push_feed", delay_s=delay_s, tenant_id=str(tenant_id), job_id=str(job.id)
    )
    return job


async def get_job(session: AsyncSession, tenant_id: uuid.UUID, job_id: uuid.UUID) -> FeedPushJob:
    job = await session.get(FeedPushJob, (tenant_id, job_id))
    if job is None:
        raise NotFound("No such feed job")
    return job


async def list_jobs(
    session: AsyncSession, *, limit: int | None, cursor: str | None, status: str | None
) -> tuple[list[FeedPushJob], str | None]:
    """Newest first (ids are UUIDv7), cursor-paginated."""
    size = clamp_limit(limit)
    query = select(FeedPushJob).order_by(FeedPushJob.id.desc())
    if status is not None:
        query = query.where(FeedPushJob.status == status)
    position = read_cursor(cursor, lambda c: uuid.UUID(c["id"]))
    if position is not None:
        query = query.where(FeedPushJob.id < position)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = encode_cursor({"id": str(rows[size - 1].id)}) if len(rows) > size else None
    return rows[:size], next_cursor


async def list_job_items(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    outcome: str | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[FeedPushItem], str | None]:
    await get_job(session, tenant_id, job_id)
    size = clamp_limit(limit)
    query = (
        select(FeedPushItem)
        .where(FeedPushItem.tenant_id == tenant_id, FeedPushItem.job_id == job_id)
        .order_by(FeedPushItem.product_id)
    )
    if outcome is not None:
        query = query.where(FeedPushItem.outcome == outcome)
    position = read_cursor(cursor, lambda c: str(c["p"]))
    if position is not None:
        query = query.where(FeedPushItem.product_id > position)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = encode_cursor({"p": rows[size - 1].product_id}) if len(rows) > size else None
    return rows[:size], next_cursor


async def set_job_status(
    session: AsyncSession,
    principal: TenantPrincipal,
    job_id: uuid.UUID,
    status: str,
    meta: RequestMeta,
) -> FeedPushJob:
    """Staff cancel (`failed`) a queued or running job, or retry (`queued`) a failed one.

    A running job notices the cancellation after its current batch of items. A retry starts
    afresh: attempts count from zero and the items are pushed again.
    """
    tenant_id = principal.tenant_id
    job = await session.get(FeedPushJob, (tenant_id, job_id), with_for_update=True)
    if job is None:
        raise NotFound("No such feed job")
    before = job.status
    now = datetime.now(UTC)
    if status == "failed":
        if job.status not in ACTIVE:
            raise InvalidTransition(f"A {job.status} job cannot be cancelled")
        job.status, job.finished_at, job.next_attempt_at = "failed", now, None
        job.cancelled_by = principal.actor
        job.error = f"Cancelled by {principal.actor}"
    else:
        if job.status != "failed":
            raise InvalidTransition(f"Only a failed job can be retried; this one is {job.status}")
        running = await _active_job(session, tenant_id, job.account_id)
        if running is not None:
            raise PushInProgress(f"Job {running.id} is {running.status}", job_id=str(running.id))
        job.status, job.trigger, job.attempts = "queued", "retry", 0
        job.error = job.cancelled_by = job.started_at = job.finished_at = None
        job.next_attempt_at = None
        await session.flush()
        await defer(session, "channels.push_feed", tenant_id=str(tenant_id), job_id=str(job.id))
    await session.flush()
    await session.refresh(job)
    await record_audit(
        session,
        actor=principal,
        action="feed_job.cancelled" if status == "failed" else "feed_job.retried",
        target=f"feed_job:{job.id}",
        changes={"status": {"from": before, "to": job.status}},
        meta=meta,
    )
    return job
