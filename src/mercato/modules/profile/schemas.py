"""Shapes of the business profile API.

A profile may be saved incomplete (a draft) as long as each value is well-formed; what is
missing or inconsistent (overlapping hours, a phone number that does not parse) is listed
by `GET {T}/profile/validation`, not refused.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import iso3166
from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, field_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]{0,1999}$", re.IGNORECASE)
BUSINESS_TYPE = r"^[A-Z][A-Za-z]{2,60}$"
OPENS = r"^([01]\d|2[0-3]):[0-5]\d$"
CLOSES = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"
MAX_RANGES = 6


def _url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not URL.match(value):
        raise ValueError("must be an absolute http(s) URL")
    return value


class TimeRange(BaseModel):
    """Open from `opens` to `closes` (24-hour "HH:MM"; "24:00" is midnight at the end)."""

    model_config = ConfigDict(extra="forbid")

    opens: str = Field(pattern=OPENS)
    closes: str = Field(pattern=CLOSES)


DayRanges = list[TimeRange]


class RegularHours(BaseModel):
    """Opening ranges per weekday; an empty list means closed that day."""

    model_config = ConfigDict(extra="forbid")

    monday: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)
    tuesday: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)
    wednesday: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)
    thursday: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)
    friday: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)
    saturday: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)
    sunday: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)

    def day(self, weekday: str) -> DayRanges:
        ranges: DayRanges = getattr(self, weekday)
        return ranges


def _date_text(value: Any) -> Any:
    """A date is ISO text (or a date): a number, which pydantic would read as Unix time,
    is refused."""
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date, e.g. 2026-12-24")
    return value


class SpecialHours(BaseModel):
    """Hours that replace the regular ones on one date (a holiday, an event)."""

    model_config = ConfigDict(extra="forbid")

    date: Annotated[dt.date, BeforeValidator(_date_text)]
    closed: bool = Field(default=False, strict=True)
    ranges: DayRanges = Field(default_factory=list, max_length=MAX_RANGES)
    label: str | None = Field(default=None, max_length=100)


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    street_address: str | None = Field(default=None, max_length=300)
    locality: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2")

    @field_validator("country_code")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        if code.startswith("X") or code not in iso3166.countries_by_alpha2:  # X*: user-assigned
            raise ValueError("not an ISO 3166-1 alpha-2 country code")
        return code


class Geo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90, strict=True)
    lon: float = Field(ge=-180, le=180, strict=True)


class ProfileFields(BaseModel):
    """Every field of a profile; all optional, so a draft can be saved."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    business_type: str | None = Field(
        default=None, pattern=BUSINESS_TYPE, description="schema.org type, e.g. HomeGoodsStore"
    )
    description: str | None = Field(default=None, max_length=5000)
    address: Address | None = None
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = None
    website: str | None = None
    categories: list[str] | None = Field(default=None, max_length=10)
    regular_hours: RegularHours | None = None
    special_hours: list[SpecialHours] | None = Field(default=None, max_length=200)
    social_links: list[str] | None = Field(default=None, max_length=20)
    seo_title: str | None = Field(default=None, max_length=200)
    seo_description: str | None = Field(default=None, max_length=1000)
    logo_url: str | None = None
    image_url: str | None = None
    price_range: str | None = Field(default=None, max_length=20)
    geo: Geo | None = Field(default=None, description="Set by hand; otherwise geocoded")

    @field_validator("website", "logo_url", "image_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        return _url(value)

    @field_validator("social_links")
    @classmethod
    def _social_links(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [url for url in (_url(link) for link in value) if url]

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [category.strip() for category in value if category.strip()]
        if any(len(category) > 100 for category in cleaned):
            raise ValueError("a category has at most 100 characters")
        return cleaned


class ProfileWrite(ProfileFields):
    """PUT: the whole profile; fields left out are cleared."""


class ProfilePatch(ProfileFields):
    """PATCH: only the fields sent change (each replaced as a whole)."""


class Geocoding(BaseModel):
    status: Literal["skipped", "pending", "done", "failed", "manual"]
    source: str | None
    geocoded_at: dt.datetime | None


class ProfileRead(BaseModel):
    name: str | None
    business_type: str
    description: str | None
    address: Address
    phone: str | None
    email: str | None
    website: str | None
    categories: list[str]
    regular_hours: RegularHours
    special_hours: list[SpecialHours]
    social_links: list[str]
    seo_title: str | None
    seo_description: str | None
    logo_url: str | None
    image_url: str | None
    price_range: str | None
    geo: Geo | None
    geocoding: Geocoding
    updated_at: dt.datetime | None


class ProfileProblem(BaseModel):
    field: str
    severity: Literal["error", "warning", "info"]
    code: str
    message: str


class ProfileValidation(BaseModel):
    """`valid`: no errors; `complete`: no errors and no warnings either."""

    valid: bool
    complete: bool
    problems: list[ProfileProblem]
