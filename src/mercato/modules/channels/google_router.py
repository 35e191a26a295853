"""`{T}/google/…`: the tenant's Google link (OAuth), its Merchant Center accounts, and the
Google Business Profile locations and insights imported through it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.jobs import defer
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.channels import gbp_reports, google_oauth, merchant_links
from mercato.modules.channels.schemas import (
    ACCOUNT_ID_PATTERN,
    GbpInsightList,
    GbpLocationLink,
    GbpLocationList,
    GbpLocationRead,
    GbpSyncAccepted,
    GoogleLinkRead,
    MerchantLinkList,
    MerchantLinkRead,
    MerchantLinkWrite,
    OAuthLinkBody,
    OAuthLinkStarted,
)
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/google", tags=["google"])
IntegrationsReader = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_READ)]
IntegrationsWriter = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_WRITE)]
Reader = Annotated[TenantPrincipal, require(Permission.CHANNELS_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.CHANNELS_WRITE)]
AccountId = Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN, description="Merchant Center id")]
GbpLocationId = Annotated[str, Path(pattern=r"^[0-9]{1,30}$")]


def _tenant(principal: TenantPrincipal) -> uuid.UUID:
    return principal.tenant_id


@router.post("/oauth/link", response_model=OAuthLinkStarted)
async def start_google_link(
    principal: IntegrationsWriter, response: Response, body: OAuthLinkBody | None = None
) -> OAuthLinkStarted:
    """The Google consent URL to send the browser to (step-up; valid ten minutes, single use).

    The response sets an HttpOnly cookie that the callback requires: open the URL in the
    browser that made this call.
    """
    started = await google_oauth.start_link(principal, body.return_to if body else None)
    google_oauth.remember_browser(response, started.browser_binding)
    return OAuthLinkStarted(
        authorization_url=started.authorization_url, expires_in=google_oauth.STATE_TTL_S
    )


@router.get("/oauth", response_model=GoogleLinkRead)
async def get_google_link(principal: IntegrationsReader, session: DbSession) -> GoogleLinkRead:
    link = await google_oauth.get_link(session, _tenant(principal))
    if link is None:
        return GoogleLinkRead(linked=False)
    return GoogleLinkRead(
        linked=link.status == "active",
        status=link.status,
        google_email=link.google_email,
        scopes=list(link.scopes),
        linked_by=link.linked_by,
        linked_at=link.linked_at,
        access_token_expires_at=link.access_token_expires_at,
        last_error=link.last_error,
    )


@router.delete("/oauth", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_google(principal: IntegrationsWriter, session: DbSession, meta: Meta) -> Response:
    """Revoke Mercato's access at Google and forget the tokens."""
    await google_oauth.unlink(session, principal, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/merchant-links", response_model=MerchantLinkList)
async def list_merchant_links(
    principal: IntegrationsReader, session: DbSession
) -> MerchantLinkList:
    rows = await merchant_links.list_merchant_links(session)
    return MerchantLinkList(data=[MerchantLinkRead.model_validate(row) for row in rows])


@router.put(
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


@router.delete("/merchant-links/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_merchant_link(
    account_id: AccountId, principal: IntegrationsWriter, session: DbSession, meta: Meta
) -> Response:
    await merchant_links.delete_merchant_link(session, principal, account_id, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/business/locations", response_model=GbpLocationList)
async def list_gbp_locations(principal: Reader, session: DbSession) -> GbpLocationList:
    rows = await gbp_reports.list_gbp_locations(session)
    return GbpLocationList(data=[GbpLocationRead.model_validate(row) for row in rows])


@router.put("/business/locations/{gbp_location_id}", response_model=GbpLocationRead)
async def link_gbp_location(
    gbp_location_id: GbpLocationId,
    body: GbpLocationLink,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> GbpLocationRead:
    """Say which of our locations this Business Profile location is."""
    row = await gbp_reports.link_gbp_location(
        session, principal, gbp_location_id, body.location_code, meta
    )
    return GbpLocationRead.model_validate(row)


@router.post("/business/sync", status_code=status.HTTP_202_ACCEPTED, response_model=GbpSyncAccepted)
async def sync_business_profile(principal: Writer, session: DbSession) -> GbpSyncAccepted:
    """Import Business Profile locations and insights now (it also runs daily)."""
    tenant_id = _tenant(principal)
    link = await google_oauth.get_link(session, tenant_id)
    if link is None:
        raise google_oauth.GoogleNotLinked("Link a Google account first")
    if google_oauth.BUSINESS_SCOPE not in link.scopes or link.status != "active":
        raise google_oauth.GoogleLinkRevoked("The Google link does not grant Business Profile")
    await defer(session, "channels.import_business_profile", tenant_id=str(tenant_id))
    return GbpSyncAccepted(queued=True)


@router.get("/business/insights", response_model=GbpInsightList)
async def gbp_insights(
    principal: Reader,
    session: DbSession,
    start: date,
    end: date,
    location_code: Annotated[str | None, Query(max_length=64)] = None,
) -> GbpInsightList:
    """Daily views, searches, calls, direction requests and website clicks per location."""
    rows = await gbp_reports.list_insights(
        session, _tenant(principal), start=start, end=end, location_code=location_code
    )
    return GbpInsightList(data=rows)
