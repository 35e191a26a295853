"""Report shapes: branch recipients, schedules, send requests and job history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"


class BranchRecipientsWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipients: list[EmailStr] = Field(max_length=50)


class BranchRecipients(BaseModel):
    location_code: str
    recipients: list[str]


class BranchList(BaseModel):
    data: list[BranchRecipients]


class ScheduleWrite(BaseModel):
    """`hour` (0-23) in the tenant's time zone; weekly schedules also need `weekday`
    (0 = Monday)."""

    model_config = ConfigDict(extra="forbid")

    hour: int = Field(ge=0, le=23, strict=True)
    weekday: int | None = Field(default=None, ge=0, le=6, strict=True)
    enabled: bool = Field(default=True, strict=True)


class ScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    frequency: Frequency
    hour: int
    weekday: int | None
    enabled: bool
    last_run_on: date | None


class ScheduleList(BaseModel):
    data: list[ScheduleRead]


class Period(StrEnum):
    day = "day"
    week = "week"


class ReportSend(BaseModel):
    """Send now: the last full day or week (default), or an explicit `start`..`end`."""

    model_config = ConfigDict(extra="forbid")

    location_code: str | None = Field(default=None, max_length=64)
    period: Period = Period.week
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> ReportSend:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


class ReportJobCreated(BaseModel):
    job_id: uuid.UUID


class DeliveryRead(BaseModel):
    location_code: str
    recipient: str
    status: str  # queued | sent | failed
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class ReportJobRead(BaseModel):
    id: uuid.UUID
    trigger: str
    period_start: date
    period_end: date
    location_code: str | None
    status: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    deliveries: list[DeliveryRead]


class ReportJobPage(BaseModel):
    data: list[ReportJobRead]
    next_cursor: str | None = None
