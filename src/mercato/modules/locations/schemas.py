"""Shapes of the locations API (`PUT {T}/locations/{code}`: `name, address?, timezone?`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from mercato.kernel.timezones import TimeZoneName

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
LocationKind = Literal["store", "branch", "warehouse", "online"]


class Geo(BaseModel):
    # Strict: numbers only, so `true` or "52.5" is refused rather than read as a coordinate.
    lat: float = Field(ge=-90, le=90, strict=True)
    lon: float = Field(ge=-180, le=180, strict=True)


class LocationWrite(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind = "store"
    address: str | None = Field(default=None, max_length=500)
    timezone: TimeZoneName | None = None
    geo: Geo | None = None
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = None
    status: Literal["active", "archived"] = "active"


class LocationRead(BaseModel):
    code: str
    name: str
    kind: str
    address: str | None
    timezone: str | None
    geo: Geo | None
    phone: str | None
    email: str | None
    status: str
    created_at: datetime
    updated_at: datetime


class LocationList(BaseModel):
    data: list[LocationRead]
