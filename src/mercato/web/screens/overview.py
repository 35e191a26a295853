"""The tenant overview: the tenant, its sales and traffic (for roles that read analytics),
then every panel the user's role may see.

The analytics part: KPI cards with the change against the previous period of the same
length, revenue and sessions per day as server-drawn SVG, the funnel (closed, or open with
`?funnel=open`), top products and every location in one table, for a date range picked in
the page (last 30 days by default).
A "today, live" card reads tracking's real-time Redis counters.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi.responses import HTMLResponse
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.errors import DomainError
from mercato.kernel.permissions import Permission
from mercato.modules.analytics import (
    FunnelMode,
    Granularity,
    Metric,
    TopProductsBy,
    funnel,
    location_stats,
    timeseries,
    top_products,
)
from mercato.modules.analytics import (
    overview as analytics_overview,
)
from mercato.modules.tracking import daily_counters
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section, get_registry

router = screen_router()

SCREENS = [Screen("overview", "Overview", "", Permission.TENANT_READ, Section.home, order=0)]

KPI_CARDS = (
    ("revenue", "Revenue"),
    ("purchases", "Orders"),
    ("average_order_value", "Average order value"),
    ("conversion_rate", "Conversion rate"),
    ("sessions", "Sessions"),
    ("users", "Visitors"),
    ("product_views", "Product views"),
    ("add_to_carts", "Added to cart"),
)
FUNNEL_LABELS = {
    "view_item": "Viewed a product",
    "add_to_cart": "Added to cart",
    "begin_checkout": "Began checkout",
    "purchase": "Purchased",
}
# What each funnel counts, under its chart; the other one is a link away (`?funnel=`).
FUNNEL_TITLES = {FunnelMode.closed: "Closed funnel", FunnelMode.open: "Open funnel"}
FUNNEL_NOTES = {
    FunnelMode.closed: "Each step counts the sessions that did every previous step, in order.",
    FunnelMode.open: "Each step counts every session that did it, whatever else it did.",
}


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


async def _analytics(page: Page, session: AsyncSession) -> dict[str, Any]:
    """Everything the analytics part shows, or the problem with the chosen range
    (`session`: the page's read session, on the replica when there is one)."""
    query = page.request.query_params
    start, end = _date(query.get("start")), _date(query.get("end"))
    mode = FunnelMode.open if query.get("funnel") == FunnelMode.open else FunnelMode.closed
    principal = page.member
    try:
        kpis = await analytics_overview(session, principal, start=start, end=end, compare=True)
    except DomainError as problem:
        return {
            "error": problem.detail,
            "start": query.get("start", ""),
            "end": query.get("end", ""),
            "funnel_mode": mode.value,
        }
    start, end = kpis.range.start, kpis.range.end
    series = {
        metric: await timeseries(
            session, principal, metric=metric, start=start, end=end, granularity=Granularity.day
        )
        for metric in (Metric.revenue, Metric.sessions)
    }
    steps = await funnel(session, principal, start=start, end=end, mode=mode)
    try:
        today = await daily_counters(page.tenant_id)
    except RedisError:
        today = None
    return {
        "error": None,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "kpis": kpis,
        "cards": KPI_CARDS,
        "revenue": [(p.t.strftime("%d %b"), float(p.value)) for p in series[Metric.revenue].points],
        "sessions": [
            (p.t.strftime("%d %b"), float(p.value)) for p in series[Metric.sessions].points
        ],
        "funnel": [(FUNNEL_LABELS[s.step], float(s.sessions)) for s in steps.steps],
        "funnel_mode": mode.value,
        "funnel_title": FUNNEL_TITLES[mode],
        "funnel_note": FUNNEL_NOTES[mode],
        "funnel_other": next(other for other in FunnelMode if other is not mode).value,
        "top": (
            await top_products(
                session, principal, start=start, end=end, by=TopProductsBy.revenue, limit=10
            )
        ).data,
        "locations": (await location_stats(session, principal, start=start, end=end)).data,
        "today": today,
    }


@router.get("")
async def overview(page: Annotated[Page, tenant_page(Permission.TENANT_READ)]) -> HTMLResponse:
    analytics = None
    if page.can(Permission.ANALYTICS_READ):
        async with get_database().read_following(page.session) as read:
            analytics = await _analytics(page, read)
    panels: list[tuple[OverviewPanel, Any]] = []
    for panel in get_registry().panels_for(page.member):
        panels.append((panel, await panel.load(page.session, page.member)))
    return page.render(
        "screens/overview.html",
        fragment="screens/_analytics.html",
        panels=panels,
        analytics=analytics,
    )
