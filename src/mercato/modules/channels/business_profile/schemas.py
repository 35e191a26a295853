"""Request and response shapes of the imported Google Business Profile locations and insights,
and of the business profile's push."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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


class ProfileTarget(BaseModel):
    """The imported Business Profile location the business profile is pushed to."""

    model_config = ConfigDict(extra="forbid")

    gbp_location_id: str = Field(pattern=r"^[0-9]{1,30}$")


class ProfileConflict(BaseModel):
    """A field edited on Google's side since the last sync: not pushed until resolved.

    `reason`: `google_changed` (only Google's value changed), `both_changed`, or
    `first_sync` (the values differ and were never synced)."""

    field: str
    reason: str
    mercato: Any
    google: Any
    detected_at: datetime | None


class ProfileSyncRead(BaseModel):
    gbp_location_id: str
    status: str
    pushed_fields: list[str]
    pushed_at: datetime | None
    checked_at: datetime | None
    error: str | None
    conflicts: list[ProfileConflict]


class ConflictResolution(BaseModel):
    """Keep Mercato's value (pushed next) or take Google's (saved into the profile)."""

    model_config = ConfigDict(extra="forbid")

    keep: Literal["mercato", "google"]
