"""Analytics: daily rollups of the event log and the KPI, time-series and funnel answers.

Public surface for other modules (reports, dashboard): the service functions below, the
tenant's local time zone that analytics days follow (`tenant_timezone`), the
rollup entry points used by jobs, demo and benchmarks, and the answer schemas.
"""

from mercato.modules.analytics.jobs import rebuild_tenant_days, roll_up_tenant
from mercato.modules.analytics.schemas import (
    Funnel,
    FunnelMode,
    Granularity,
    LocationStats,
    Metric,
    Overview,
    Timeseries,
    TopProducts,
    TopProductsBy,
)
from mercato.modules.analytics.service import (
    funnel,
    location_stats,
    overview,
    placements,
    timeseries,
    top_products,
)
from mercato.modules.analytics.tenant_zone import tenant_timezone

__all__ = [
    "Funnel",
    "FunnelMode",
    "Granularity",
    "LocationStats",
    "Metric",
    "Overview",
    "Timeseries",
    "TopProducts",
    "TopProductsBy",
    "funnel",
    "location_stats",
    "overview",
    "placements",
    "rebuild_tenant_days",
    "roll_up_tenant",
    "tenant_timezone",
    "timeseries",
    "top_products",
]
