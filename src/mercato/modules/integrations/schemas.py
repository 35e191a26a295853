"""Integration API shapes: settings go in as plain JSON, secrets come out masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class IntegrationRead(BaseModel):
    kind: str
    settings: dict[str, Any]  # secret fields appear as {"set": bool, "hint"?: "••••1234"}
    key_id: str | None
    updated_by: str
    created_at: datetime
    updated_at: datetime


class IntegrationList(BaseModel):
    data: list[IntegrationRead]


class ConnectionCheck(BaseModel):
    """The outcome of "test connection": `ok`, and in `message` what worked or what failed."""

    kind: str
    ok: bool
    message: str
    checked_at: datetime
