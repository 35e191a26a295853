"""Request and response shapes of Google's taxonomy and category alignment (Channels section of
API.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class GoogleCategoryRead(BaseModel):
    id: int
    path: str
    name: str
    parent_id: int | None
    level: int


class GoogleCategoryList(BaseModel):
    data: list[GoogleCategoryRead]


class AlignBody(BaseModel):
    """`google_category_id: null` removes the alignment."""

    model_config = ConfigDict(extra="forbid")

    google_category_id: int | None = Field(ge=1, strict=True)


class CategoryAlignmentRead(BaseModel):
    category_id: uuid.UUID
    path: str
    google_category_id: int | None
    google_category_path: str | None


class AlignmentSuggestionRead(BaseModel):
    google_category_id: int
    path: str
    score: float


class AlignmentSuggestions(BaseModel):
    category_id: uuid.UUID
    category_path: str
    google_category_id: int | None
    data: list[AlignmentSuggestionRead]


class CategoryCoverage(BaseModel):
    category_id: uuid.UUID
    path: str
    google_category_id: int | None
    products: int


class AlignmentCoverage(BaseModel):
    """`coverage` is the share of live products whose category is aligned (0 to 1)."""

    categories: int
    aligned_categories: int
    products: int
    aligned_products: int
    coverage: float
    data: list[CategoryCoverage]


class AlignmentAuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    category_id: uuid.UUID
    category_path: str
    previous_google_category_id: int | None
    google_category_id: int | None
    source: str
    score: float | None
    actor: str
    created_at: datetime
