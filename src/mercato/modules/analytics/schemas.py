"""Analytics API shapes (names from API.md's Intelligence section)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel


class Metric(StrEnum):
    sessions = "sessions"
    users = "users"
    product_views = "product_views"
    add_to_carts = "add_to_carts"
    purchases = "purchases"
    revenue = "revenue"
    conversion_rate = "conversion_rate"
    average_order_value = "average_order_value"


class Granularity(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class FunnelMode(StrEnum):
    """`closed`: a step counts sessions that did every previous step, in order (the
    default); `open`: each step counts the sessions that did it, whatever else they did."""

    closed = "closed"
    open = "open"


class TopProductsBy(StrEnum):
    revenue = "revenue"
    units = "units"
    views = "views"
    conversion = "conversion"


class Kpis(BaseModel):
    sessions: int
    users: int
    product_views: int
    add_to_carts: int
    purchases: int
    revenue: Decimal
    conversion_rate: float
    average_order_value: Decimal
    begin_checkouts: int
    units: int


class PeriodRange(BaseModel):
    start: date
    end: date


class Overview(Kpis):
    """The KPIs of the range; with `compare=previous`, the same-length period before it."""

    range: PeriodRange
    location: str | None = None
    previous: Kpis | None = None
    previous_range: PeriodRange | None = None
    change: dict[str, float | None] | None = None  # relative change per KPI, 0.1 = +10 %


class Point(BaseModel):
    t: date
    value: float | Decimal | int


class Timeseries(BaseModel):
    metric: Metric
    granularity: Granularity
    range: PeriodRange
    points: list[Point]


class TopProduct(BaseModel):
    product_id: str
    views: int
    add_to_carts: int
    purchases: int
    units: int
    revenue: Decimal
    conversion: float


class TopProducts(BaseModel):
    by: TopProductsBy
    range: PeriodRange
    data: list[TopProduct]


class FunnelStep(BaseModel):
    step: str
    sessions: int
    rate_from_previous: float
    rate_from_start: float


class Funnel(BaseModel):
    """Sessions that reached each step over the range: in a `closed` funnel only those that
    did every previous step first, in an `open` one in any order (see `FunnelMode`)."""

    range: PeriodRange
    sessions: int
    steps: list[FunnelStep]
    mode: FunnelMode = FunnelMode.closed


class LocationKpis(Kpis):
    location_code: str
    name: str | None = None


class LocationStats(BaseModel):
    range: PeriodRange
    data: list[LocationKpis]


class Placement(BaseModel):
    placement: str
    strategy: str
    variant: str
    impressions: int
    clicks: int
    conversions: int
    revenue: Decimal
    ctr: float


class Placements(BaseModel):
    range: PeriodRange
    data: list[Placement]
