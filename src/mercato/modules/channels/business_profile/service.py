"""Reading imported Business Profile data, and linking a GBP location to one of ours."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.channels.business_profile.schemas import GbpInsightRead
from mercato.modules.channels.models import GbpInsightDaily, GbpLocation
from mercato.modules.locations import get_location

MAX_INSIGHT_DAYS = 731


async def list_gbp_locations(session: AsyncSession) -> list[GbpLocation]:
    rows = await session.scalars(select(GbpLocation).order_by(GbpLocation.title))
    return list(rows.all())


async def link_gbp_location(
    session: AsyncSession,
    principal: TenantPrincipal,
    gbp_location_id: str,
    location_code: str | None,
    meta: RequestMeta,
) -> GbpLocation:
    """Say which of our locations a Business Profile location is (None unlinks it)."""
    row = await session.get(GbpLocation, (principal.tenant_id, gbp_location_id))
    if row is None:
        raise NotFound(f"No imported Business Profile location {gbp_location_id!r}")
    if location_code is not None:
        try:
            await get_location(session, principal.tenant_id, location_code)
        except NotFound:
            message = f"No location {location_code!r}"
            raise ValidationFailed(
                message, errors=[field_error("location_code", message, "not_found")]
            ) from None
    before = row.location_code
    row.location_code = location_code
    await session.flush()
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="gbp.location_linked",
        target=f"gbp:{gbp_location_id}",
        changes={"location_code": {"from": before, "to": location_code}},
        meta=meta,
    )
    return row


async def list_insights(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    start: date,
    end: date,
    location_code: str | None,
) -> list[GbpInsightRead]:
    """Daily counters per GBP location in [start, end], oldest first."""
    if end < start or (end - start).days >= MAX_INSIGHT_DAYS:
        message = f"end must be on or after start, at most {MAX_INSIGHT_DAYS} days apart"
        raise ValidationFailed(message, errors=[field_error("end", message)])
    query = (
        select(GbpInsightDaily, GbpLocation.location_code)
        .join(
            GbpLocation,
            (GbpLocation.tenant_id == GbpInsightDaily.tenant_id)
            & (GbpLocation.gbp_location_id == GbpInsightDaily.gbp_location_id),
        )
        .where(GbpInsightDaily.tenant_id == tenant_id)
        .where(GbpInsightDaily.day.between(start, end))
        .order_by(GbpInsightDaily.day, GbpInsightDaily.gbp_location_id)
    )
    if location_code is not None:
        query = query.where(GbpLocation.location_code == location_code)
    rows = await session.execute(query)
    return [
        GbpInsightRead(
            gbp_location_id=insight.gbp_location_id,
            location_code=code,
            day=insight.day,
            views=insight.views,
            searches=insight.searches,
            calls=insight.calls,
            direction_requests=insight.direction_requests,
            website_clicks=insight.website_clicks,
        )
        for insight, code in rows
    ]
