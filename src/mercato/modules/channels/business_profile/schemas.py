"""Request and response shapes of the imported Google Business Profile locations and insights."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class GbpLocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    gbp_location_id: str
    account_id: str
    title: str
    store_code: str | None
    location_code: str | None
    address: str | None
    phone: str | None
    website: str | None
    latitude: float | None
    longitude: float | None
    imported_at: datetime
    insights_through: date | None


class GbpLocationList(BaseModel):
    data: list[GbpLocationRead]


class GbpLocationLink(BaseModel):
    """Which of our locations a Business Profile location is; null unlinks it."""

    model_config = ConfigDict(extra="forbid")

    location_code: str | None


class GbpInsightRead(BaseModel):
    gbp_location_id: str
    location_code: str | None
    day: date
    views: int
    searches: int
    calls: int
    direction_requests: int
    website_clicks: int


class GbpInsightList(BaseModel):
    data: list[GbpInsightRead]


class GbpSyncAccepted(BaseModel):
    queued: bool
