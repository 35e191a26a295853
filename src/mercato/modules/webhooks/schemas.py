"""Shapes of the webhook endpoints API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, HttpUrl

EVENT_TYPE_PATTERN = r"^[a-z_]+(\.[a-z_]+)+$|^\*$"


class WebhookCreate(BaseModel):
    url: HttpUrl
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] = Field(default_factory=list, max_length=100)


class WebhookUpdate(BaseModel):
    url: HttpUrl | None = None
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, max_length=100)
    status: str | None = Field(default=None, pattern="^(active|disabled)$")


class WebhookRead(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    status: str
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str


class WebhookList(BaseModel):
    data: list[WebhookRead]


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
