"""`{T}/analytics/*`: KPIs, time series, top products, funnel, locations, placements, CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from mercato.kernel.deps import ReadSession
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.analytics import service
from mercato.modules.analytics.schemas import (
    Funnel,
    FunnelMode,
    Granularity,
    LocationStats,
    Metric,
    Overview,
    Placements,
    Timeseries,
    TopProducts,
    TopProductsBy,
)
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/analytics", tags=["analytics"])

Reader = Annotated[TenantPrincipal, require(Permission.ANALYTICS_READ)]
Start = Annotated[date | None, Query(description="First local day (default: 29 days before end)")]
End = Annotated[date | None, Query(description="Last local day, inclusive (default: today)")]
LocationCode = Annotated[str | None, Query(max_length=64, description="Only this location")]


@router.get("/overview", response_model=Overview)
async def get_overview(
    principal: Reader,
    session: ReadSession,
    start: Start = None,
    end: End = None,
    location: LocationCode = None,
    compare: Annotated[
        str | None, Query(pattern="^previous$", description="`previous`: add the period before")
    ] = None,
) -> Overview:
    return await service.overview(
        session, principal, start=start, end=end, location=location, compare=compare is not None
    )


@router.get("/timeseries", response_model=Timeseries)
async def get_timeseries(
    principal: Reader,
    session: ReadSession,
    metric: Metric = Metric.revenue,
    start: Start = None,
    end: End = None,
    granularity: Granularity = Granularity.day,
    location: LocationCode = None,
) -> Timeseries:
    return await service.timeseries(
        session,
        principal,
        metric=metric,
        start=start,
        end=end,
        granularity=granularity,
        location=location,
    )


@router.get("/top-products", response_model=TopProducts)
async def get_top_products(
    principal: Reader,
    session: ReadSession,
    start: Start = None,
    end: End = None,
    by: TopProductsBy = TopProductsBy.revenue,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    location: LocationCode = None,
) -> TopProducts:
    return await service.top_products(
        session, principal, start=start, end=end, by=by, limit=limit, location=location
    )


@router.get("/funnel", response_model=Funnel)
async def get_funnel(
    principal: Reader,
    session: ReadSession,
    start: Start = None,
    end: End = None,
    location: LocationCode = None,
    mode: Annotated[
        FunnelMode,
        Query(
            description="`closed`: each step counts sessions that did every previous step, "
            "in order (default); `open`: each step counts independently"
        ),
    ] = FunnelMode.closed,
) -> Funnel:
    return await service.funnel(
        session, principal, start=start, end=end, location=location, mode=mode
    )


@router.get("/locations", response_model=LocationStats)
async def get_locations(
    principal: Reader, session: ReadSession, start: Start = None, end: End = None
) -> LocationStats:
    return await service.location_stats(session, principal, start=start, end=end)


@router.get("/placements", response_model=Placements)
async def get_placements(
    principal: Reader, session: ReadSession, start: Start = None, end: End = None
) -> Placements:
    return await service.placements(session, principal, start=start, end=end)


@router.get("/export.csv", response_class=Response)
async def export_csv(
    principal: Reader, session: ReadSession, start: Start = None, end: End = None
) -> Response:
    body = await service.export_csv(session, principal, start=start, end=end)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="analytics.csv"'},
    )
