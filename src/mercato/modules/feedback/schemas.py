"""Request and response shapes of `{T}/feedback` (names from API.md "Operations")."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

MAX_CONTEXT_BYTES = 4096


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, strict=True)
    category: str = Field(min_length=1, max_length=64, examples=["checkout"])
    comment: str | None = Field(default=None, max_length=5000)
    context: dict[str, Any] = Field(
        default_factory=dict, examples=[{"page": "/checkout", "feature": "recommendations"}]
    )
    contact_consent: bool = Field(default=False, strict=True)
    contact_email: EmailStr | None = None

    @field_validator("category")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        trimmed = value.strip().lower()
        if not trimmed:
            raise ValueError("category must not be blank")
        return trimmed

    @field_validator("context")
    @classmethod
    def _small_context(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > MAX_CONTEXT_BYTES:
            raise ValueError(f"context must stay under {MAX_CONTEXT_BYTES} bytes of JSON")
        return value

    @model_validator(mode="after")
    def _email_needs_consent(self) -> FeedbackCreate:
        if self.contact_email is not None and not self.contact_consent:
            raise ValueError("contact_email is kept only with contact_consent: true")
        return self


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    rating: int
    category: str
    comment: str | None
    context: dict[str, Any]
    contact_consent: bool
    contact_email: str | None
    source: str
    created_at: datetime


class FeedbackWeek(BaseModel):
    week_start: date
    count: int
    average: float
    satisfaction_rate: float


class FeedbackSummary(BaseModel):
    """Satisfaction rate is the share of ratings of 4 or 5."""

    start: datetime
    end: datetime
    count: int
    average: float | None
    distribution: dict[str, int]
    satisfaction_rate: float | None
    by_week: list[FeedbackWeek]
    by_category: dict[str, int]
