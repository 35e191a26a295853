"""Master-data API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class SyncRead(BaseModel):
    """A sync run; `problems` lists bad rows as `{file, row, column, reason}`."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    trigger: str
    status: str
    counts: dict[str, Any]
    problems: list[dict[str, Any]]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class SalesRepRead(BaseModel):
    id: str
    name: str
    email: str | None
    active: bool
    location_codes: list[str]
    updated_at: datetime


class SalesRepList(BaseModel):
    data: list[SalesRepRead]
