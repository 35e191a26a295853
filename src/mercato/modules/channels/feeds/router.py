"""`{T}/feed…`, `{T}/feed-jobs…` and `{T}/google/merchant-links…`: the Merchant Center feed's
precheck, push jobs and hosted feed settings, and the accounts pushes go to (Channels
section of API.md)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.channels.feeds import item_status, merchant_links, push_jobs
from mercato.modules.channels.feeds.catalog_precheck import precheck_products
from mercato.modules.channels.feeds.hosted_feed import feed_urls, hosted_feed, rotate_feed_token
from mercato.modules.channels.feeds.schemas import (
    ACCOUNT_ID_PATTERN,
    FeedItemRead,
    FeedJobItemRead,
    FeedJobRead,
    FeedJobStatusBody,
    FeedPushAccepted,
    FeedPushBody,
    FeedSettingsRead,
    MerchantLinkList,
    MerchantLinkRead,
    MerchantLinkWrite,
    PrecheckBody,
    PrecheckIssueRead,
    PrecheckRead,
)
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["channels"])
# The Merchant Center accounts sit with the tenant's Google link in the API.
merchant_links_router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/google", tags=["google"])
Reader = Annotated[TenantPrincipal, require(Permission.CHANNELS_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.CHANNELS_WRITE)]
Staff = Annotated[TenantPrincipal, require(Permission.CHANNELS_MANAGE)]
IntegrationsReader = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_READ)]
IntegrationsWriter = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_WRITE)]
Limit = Annotated[int, Query(ge=1, le=500)]
AccountId = Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN, description="Merchant Center id")]


def _tenant(principal: TenantPrincipal) -> uuid.UUID:
    return principal.tenant_id


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
    job = await push_jobs.queue_push(
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
    rows, next_cursor = await push_jobs.list_jobs(
        session, limit=limit, cursor=cursor, status=status_filter
    )
    return Page[FeedJobRead](
        data=[FeedJobRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/feed-jobs/{job_id}", response_model=FeedJobRead)
async def get_feed_job(job_id: uuid.UUID, principal: Reader, session: DbSession) -> FeedJobRead:
    return FeedJobRead.model_validate(await push_jobs.get_job(session, _tenant(principal), job_id))


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
    rows, next_cursor = await push_jobs.list_job_items(
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
    job = await push_jobs.set_job_status(session, principal, job_id, body.status, meta)
    return FeedJobRead.model_validate(job)


@router.get("/feed/items", response_model=Page[FeedItemRead])
async def list_feed_items(
    principal: Reader,
    session: DbSession,
    status_filter: Annotated[
        Literal["approved", "pending", "disapproved"] | None, Query(alias="status")
    ] = None,
    account_id: Annotated[str | None, Query(pattern=ACCOUNT_ID_PATTERN)] = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[FeedItemRead]:
    """Products in Merchant Center with Google's status and issues, by product id."""
    rows, next_cursor = await item_status.list_items(
        session,
        _tenant(principal),
        status=status_filter,
        account_id=account_id,
        limit=limit,
        cursor=cursor,
    )
    return Page[FeedItemRead](
        data=[item_status.to_read(row) for row in rows], next_cursor=next_cursor
    )


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


@merchant_links_router.get("/merchant-links", response_model=MerchantLinkList)
async def list_merchant_links(
    principal: IntegrationsReader, session: DbSession
) -> MerchantLinkList:
    rows = await merchant_links.list_merchant_links(session)
    return MerchantLinkList(data=[MerchantLinkRead.model_validate(row) for row in rows])


@merchant_links_router.put(
    "/merchant-links/{account_id}",
    response_model=MerchantLinkRead,
    responses={201: {"description": "Created"}, 200: {"description": "Replaced"}},
)
async def put_merchant_link(
    account_id: AccountId,
    body: MerchantLinkWrite,
    response: Response,
    principal: IntegrationsWriter,
    session: DbSession,
    meta: Meta,
) -> MerchantLinkRead:
    """Push products to this Merchant Center account under its API data source."""
    link, created = await merchant_links.put_merchant_link(
        session, principal, account_id, body, meta
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return MerchantLinkRead.model_validate(link)


@merchant_links_router.delete(
    "/merchant-links/{account_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_merchant_link(
    account_id: AccountId, principal: IntegrationsWriter, session: DbSession, meta: Meta
) -> Response:
    await merchant_links.delete_merchant_link(session, principal, account_id, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
