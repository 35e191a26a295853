"""`{T}/google/business…`: the Google Business Profile locations and insights imported through
the tenant's Google link, and importing them now."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.errors import NotFound
from mercato.kernel.jobs import defer
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.channels.business_profile import push, service
from mercato.modules.channels.business_profile.schemas import (
    ConflictResolution,
    GbpInsightList,
    GbpLocationLink,
    GbpLocationList,
    GbpLocationRead,
    GbpSyncAccepted,
    ProfileSyncRead,
    ProfileTarget,
)
from mercato.modules.channels.google import (
    BUSINESS_SCOPE,
    GoogleLinkRevoked,
    GoogleNotLinked,
    get_link,
)
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/google", tags=["google"])
Reader = Annotated[TenantPrincipal, require(Permission.CHANNELS_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.CHANNELS_WRITE)]
GbpLocationId = Annotated[str, Path(pattern=r"^[0-9]{1,30}$")]
PushedField = Annotated[str, Path(pattern="^(" + "|".join(push.PUSHED_FIELDS) + ")$")]


def _tenant(principal: TenantPrincipal) -> uuid.UUID:
    return principal.tenant_id


@router.get("/business/locations", response_model=GbpLocationList)
async def list_gbp_locations(principal: Reader, session: DbSession) -> GbpLocationList:
    rows = await service.list_gbp_locations(session)
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
    row = await service.link_gbp_location(
        session, principal, gbp_location_id, body.location_code, meta
    )
    return GbpLocationRead.model_validate(row)


@router.post("/business/sync", status_code=status.HTTP_202_ACCEPTED, response_model=GbpSyncAccepted)
async def sync_business_profile(principal: Writer, session: DbSession) -> GbpSyncAccepted:
    """Import Business Profile locations and insights now (it also runs daily)."""
    tenant_id = _tenant(principal)
    link = await get_link(session, tenant_id)
    if link is None:
        raise GoogleNotLinked("Link a Google account first")
    if BUSINESS_SCOPE not in link.scopes or link.status != "active":
        raise GoogleLinkRevoked("The Google link does not grant Business Profile")
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
    rows = await service.list_insights(
        session, _tenant(principal), start=start, end=end, location_code=location_code
    )
    return GbpInsightList(data=rows)


@router.get("/business/profile-push", response_model=ProfileSyncRead)
async def profile_push_state(principal: Reader, session: DbSession) -> ProfileSyncRead:
    """Where the business profile is pushed, the last push, and the fields in conflict."""
    sync = await push.get_sync(session, _tenant(principal))
    if sync is None:
        raise NotFound("The business profile is not pushed to Business Profile yet")
    return push.sync_read(sync)


@router.put("/business/profile-push", response_model=ProfileSyncRead)
async def choose_profile_location(
    body: ProfileTarget, principal: Writer, session: DbSession, meta: Meta
) -> ProfileSyncRead:
    """Push the business profile to this imported location (edits then push by themselves)."""
    sync = await push.choose_location(session, principal, body.gbp_location_id, meta)
    return push.sync_read(sync)


@router.post(
    "/business/profile-push/run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ProfileSyncRead,
)
async def push_profile_now(principal: Writer, session: DbSession) -> ProfileSyncRead:
    """Push the business profile now (conflicting fields stay unsent)."""
    return push.sync_read(await push.queue_push_now(session, principal))


@router.post("/business/profile-push/conflicts/{field}", response_model=ProfileSyncRead)
async def resolve_profile_conflict(
    field: PushedField,
    body: ConflictResolution,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> ProfileSyncRead:
    """Keep Mercato's value (pushed next) or take Google's (saved into the profile)."""
    sync = await push.resolve_conflict(session, principal, field, body.keep, meta)
    return push.sync_read(sync)
