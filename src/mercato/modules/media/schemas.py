"""Response shapes of the media routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class RenditionRead(BaseModel):
    url: str
    width: int
    height: int
    byte_size: int


class MediaRead(BaseModel):
    id: uuid.UUID
    url: str
    content_type: str
    width: int
    height: int
    byte_size: int
    original_filename: str | None
    renditions: dict[str, RenditionRead]
    created_at: datetime


class MediaList(BaseModel):
    data: list[MediaRead]
    next_cursor: str | None = None
