"""`{T}/feed…`, `{T}/feed-jobs…`, `{T}/categories/…alignment…`, `{T}/google/taxonomy`:
the Merchant Center feed and category alignment (Channels section of API.md)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.channels import alignment, feed_jobs
from mercato.modules.channels.feed_precheck import precheck_products
from mercato.modules.channels.hosted_feed import feed_urls, hosted_feed, rotate_feed_token
from mercato.modules.channels.schemas import (
    AlignBody,
    AlignmentAuditRead,
    AlignmentCoverage,
    AlignmentSuggestions,
    CategoryAlignmentRead,
    FeedJobItemRead,
    FeedJobRead,
    FeedJobStatusBody,
    FeedPushAccepted,
    FeedPushBody,
    FeedSettingsRead,
    GoogleCategoryList,
    GoogleCategoryRead,
    PrecheckBody,
    PrecheckIssueRead,
    PrecheckRead,
)
from mercato.modules.channels.taxonomy_store import search_taxonomy
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["channels"])
Reader = Annotated[TenantPrincipal, require(Permission.CHANNELS_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.CHANNELS_WRITE)]
Staff = Annotated[TenantPrincipal, require(Permission.CHANNELS_MANAGE)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _tenant(principal: TenantPrincipal) -> uuid.UUID:
    return principal.tenant_id


@router.get("/google/taxonomy", response_model=GoogleCategoryList)
async def search_google_categories(
    principal: Reader,
    session: DbSession,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> GoogleCategoryList:
    """Google product categories matching every word of `q` (prefixes count), or id `q`."""
    found = await search_taxonomy(session, q, limit)
    return GoogleCategoryList(
        data=[GoogleCategoryRead.model_validate(c, from_attributes=True) for c in found]
    )


@router.get("/categories/alignment", response_model=AlignmentCoverage)
async def alignment_coverage(principal: Reader, session: DbSession) -> AlignmentCoverage:
    """How much of the catalog is aligned: per category, and the share of products."""
    return await alignment.alignment_coverage(session, _tenant(principal))


@router.get("/categories/alignment/history", response_model=Page[AlignmentAuditRead])
async def alignment_history(
    principal: Reader,
    session: DbSession,
    category_id: uuid.UUID | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[AlignmentAuditRead]:
    """The `category_alignment_audit` trail, newest first."""
    rows, next_cursor = await alignment.alignment_history(
        session, category_id=category_id, limit=limit, cursor=cursor
    )
    return Page[AlignmentAuditRead](
        data=[AlignmentAuditRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/categories/{category_id}/alignment-suggestions", response_model=AlignmentSuggestions)
async def alignment_suggestions(
    category_id: uuid.UUID,
    principal: Reader,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> AlignmentSuggestions:
    return await alignment.suggest_alignment(session, _tenant(principal), category_id, limit)


@router.post(
    "/categories/{category_id}/alignment-suggestions/{google_category_id}/accept",
    response_model=CategoryAlignmentRead,
)
async def accept_alignment_suggestion(
    category_id: uuid.UUID,
    google_category_id: int,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> CategoryAlignmentRead:
    return await alignment.accept_suggestion(
        session, principal, category_id, google_category_id, meta
    )


@router.post("/categories/{category_id}/align", response_model=CategoryAlignmentRead)
async def align_category(
    category_id: uuid.UUID, body: AlignBody, principal: Writer, session: DbSession, meta: Meta
) -> CategoryAlignmentRead:
    """Align by hand; `{"google_category_id": null}` removes the alignment."""
    return await alignment.align_category(
        session, principal, category_id, body.google_category_id, meta
    )


@router.post("/feed/precheck", response_model=PrecheckRead)
async def precheck_feed(
    principal: Reader, session: DbSession, body: PrecheckBody | None = None
) -> PrecheckRead:
    """Check products (all, or `product_ids`) against the Merchant Center data spec."""
    product_ids = body.product_ids if body else None
    result = await precheck_products(session, _tenant(principal), product_ids)
    return PrecheckRead(
        checked=result.checked,
        valid=result.valid,
        invalid=result.invalid,
        issues=[PrecheckIssueRead.model_validate(i, from_attributes=True) for i in result.issues],
    )


@router.post("/feed/push", status_code=status.HTTP_202_ACCEPTED, response_model=FeedPushAccepted)
async def push_feed(
    principal: Writer, session: DbSession, meta: Meta, body: FeedPushBody | None = None
) -> FeedPushAccepted:
    """Queue a push of every valid product to Merchant Center through the Merchant API."""
    job = await feed_jobs.queue_push(
        session,
        _tenant(principal),
        account_id=body.account_id if body else None,
        requested_by=principal.actor,
        trigger="manual",
    )
    return FeedPushAccepted(job_id=job.id)


@router.get("/feed-jobs", response_model=Page[FeedJobRead])
async def list_feed_jobs(
    principal: Reader,
    session: DbSession,
    status_filter: Annotated[
        Literal["queued", "processing", "success", "failed"] | None, Query(alias="status")
    ] = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[FeedJobRead]:
    rows, next_cursor = await feed_jobs.list_jobs(
        session, limit=limit, cursor=cursor, status=status_filter
    )
    return Page[FeedJobRead](
        data=[FeedJobRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/feed-jobs/{job_id}", response_model=FeedJobRead)
async def get_feed_job(job_id: uuid.UUID, principal: Reader, session: DbSession) -> FeedJobRead:
    return FeedJobRead.model_validate(await feed_jobs.get_job(session, _tenant(principal), job_id))


@router.get("/feed-jobs/{job_id}/items", response_model=Page[FeedJobItemRead])
async def list_feed_job_items(
    job_id: uuid.UUID,
    principal: Reader,
    session: DbSession,
    outcome: Literal["pushed", "failed", "skipped"] | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[FeedJobItemRead]:
    """What happened to each product of the job, by product id."""
    rows, next_cursor = await feed_jobs.list_job_items(
        session, _tenant(principal), job_id, outcome=outcome, limit=limit, cursor=cursor
    )
    return Page[FeedJobItemRead](
        data=[FeedJobItemRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.patch("/feed-jobs/{job_id}/status", response_model=FeedJobRead)
async def set_feed_job_status(
    job_id: uuid.UUID, body: FeedJobStatusBody, principal: Staff, session: DbSession, meta: Meta
) -> FeedJobRead:
    """Staff only: `failed` cancels a queued or running job, `queued` retries a failed one."""
    job = await feed_jobs.set_job_status(session, principal, job_id, body.status, meta)
    return FeedJobRead.model_validate(job)


@router.get("/feed/settings", response_model=FeedSettingsRead)
async def feed_settings(principal: Reader, session: DbSession) -> FeedSettingsRead:
    """The hosted feed's public addresses for Merchant Center's scheduled fetch."""
    feed = await hosted_feed(session, _tenant(principal))
    xml_url, tsv_url = feed_urls(feed)
    return FeedSettingsRead(feed_url=xml_url, tsv_url=tsv_url, rotated_at=feed.rotated_at)


@router.post("/feed/settings/rotate", response_model=FeedSettingsRead)
async def rotate_feed_settings(
    principal: Writer, session: DbSession, meta: Meta
) -> FeedSettingsRead:
    """New feed addresses; the old ones answer 404 from now on."""
    feed = await rotate_feed_token(session, principal, meta)
    xml_url, tsv_url = feed_urls(feed)
    return FeedSettingsRead(feed_url=xml_url, tsv_url=tsv_url, rotated_at=feed.rotated_at)
