"""Request and response shapes of the tenant's Google link (OAuth)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OAuthLinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_to: str | None = Field(default=None, max_length=500)


class OAuthLinkStarted(BaseModel):
    authorization_url: str
    expires_in: int


class GoogleLinkRead(BaseModel):
    linked: bool
    status: str | None = None
    google_email: str | None = None
    scopes: list[str] = Field(default_factory=list)
    linked_by: str | None = None
    linked_at: datetime | None = None
    access_token_expires_at: datetime | None = None
    last_error: str | None = None


class OAuthLinked(BaseModel):
    status: Literal["linked"]
    tenant_id: uuid.UUID
    google_email: str | None
    scopes: list[str]
