"""Tracking API shapes (names from API.md's Tracking section)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

EventType = Literal[
    "page_view",
    "view_item",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
    "impression",
    "click",
]
Name = Annotated[str, Field(min_length=1, max_length=256)]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")


def _iso_date_text(value: Any) -> Any:
    """A date in a query is ISO 8601 text; a bare number (which pydantic would read as
    Unix time) or anything else is refused rather than guessed at. Date-times use the
    kernel's `Timestamp`."""
    if isinstance(value, str) and not ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 date, e.g. 2026-11-23")
    return value


QueryDate = Annotated[date, BeforeValidator(_iso_date_text)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]


class EventIn(BaseModel):
    """One behavioural event. Unknown fields are ignored; per-type rules in `validation`."""

    model_config = ConfigDict(extra="ignore")

    type: EventType
    user_id: Name
    session_id: Name | None = None
    product_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    quantity: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] | None = None
    price: Money | None = None
    revenue: Money | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    query: Annotated[str, Field(max_length=1000)] | None = None
    results_count: Annotated[int, Field(ge=0, le=2_147_483_647, strict=True)] | None = None
    placement: Name | None = None
    strategy: Name | None = None
    experiment_id: Name | None = None
    variant: Name | None = None
    location_code: Name | None = None
    event_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    timestamp: AwareDatetime | None = None
    properties: dict[str, Any] | None = None


MAX_BATCH = 1000


class EventBatchIn(BaseModel):
    """`{"events": [...]}` whatever the items hold: each is then checked on its own."""

    events: Annotated[list[Any], Field(max_length=MAX_BATCH)]


class EventBatch(BaseModel):
    """`{"events": [...]}` of well-formed events (also the documented request body)."""

    events: Annotated[list[EventIn], Field(max_length=MAX_BATCH)]


def batch_body_schema() -> dict[str, Any]:
    """The batch request body for OpenAPI, pointing at the shared `EventIn` schema.

    An item that is not a valid event does not fail the batch (it is reported in
    `rejected`), so the items are documented as "an `EventIn`, or anything else".
    """
    schema = EventBatch.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    events = schema["properties"]["events"]
    events["items"] = {
        "anyOf": [events["items"], {}],
        "description": "An event; an item that is not a valid one is listed in `rejected`.",
    }
    return schema


class IngestAccepted(BaseModel):
    accepted: int
    duplicates: int


class RejectedEvent(BaseModel):
    index: int
    errors: list[dict[str, str]]


class BatchAccepted(IngestAccepted):
    rejected: list[RejectedEvent]


class EventRead(BaseModel):
    """A stored event; `id` is the hex dedup key (stable for the same event)."""

    id: str
    type: str
    user_id: str
    session_id: str | None
    product_id: str | None
    quantity: int | None
    price: Decimal | None
    revenue: Decimal | None
    currency: str | None
    query: str | None
    results_count: int | None
    placement: str | None
    strategy: str | None
    experiment_id: str | None
    variant: str | None
    location_code: str | None
    event_id: str | None
    timestamp: datetime
    source: str
    properties: dict[str, Any] | None
    received_at: datetime


class TimelineSession(BaseModel):
    session_id: str | None
    started_at: datetime
    ended_at: datetime
    location_code: str | None
    events: list[EventRead]


class Timeline(BaseModel):
    user_id: str
    sessions: list[TimelineSession]
    next_cursor: str | None = None


class AvailabilityDay(BaseModel):
    day: date
    events: int
    by_type: dict[str, int]
    by_source: dict[str, int]
    first_at: datetime
    last_at: datetime


class Availability(BaseModel):
    start: date
    end: date
    days: list[AvailabilityDay]


IngestSource = Literal["ga4_file", "bigquery", "sftp"]


class IngestJobCreate(BaseModel):
    """`source` with an inclusive date range; `path` (ga4_file) overrides the configured one."""

    source: IngestSource
    start: date | None = None
    end: date | None = None
    path: str | None = Field(default=None, max_length=1000)


class IngestJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source: str
    start: date | None
    end: date | None
    status: str
    counts: dict[str, Any]
    error: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UploadedFile(BaseModel):
    """An export file stored in the tenant's import folder, ready for a `ga4_file` job."""

    file_name: str
    bytes: int


class Ga4DayFreshness(BaseModel):
    """One day's GA4 data: `complete` (read after the day ended), `partial` (read while it
    was still going on), `pending` (an import is queued or running), `failed` (the newest
    import of it failed, e.g. its export table is missing) or `missing` (never imported)."""

    day: date
    status: Literal["complete", "partial", "pending", "failed", "missing"]
    job_id: uuid.UUID | None
    finished_at: datetime | None
    error: str | None
    scheduled: bool


class Ga4Freshness(BaseModel):
    """`stale_hours` is set while the data is stale (the newest GA4 import finished more
    than 24 hours ago): the dashboard shows a banner and `tracking.ga4_stale` is sent.
    `scheduled`: the BigQuery integration is configured, so yesterday is imported daily."""

    newest_complete_day: date | None
    last_import_at: datetime | None
    stale_hours: int | None
    scheduled: bool
    days: list[Ga4DayFreshness]
