"""Request and response shapes of `{T}/pages` and `{T}/public/pages`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

PageStatus = Literal["draft", "published", "archived"]
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_BODY_CHARS = 200_000


class PageFields(BaseModel):
    """What a merchant edits; every field optional so PATCH can change any subset."""

    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(default=None, min_length=1, max_length=100, pattern=SLUG_PATTERN)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=MAX_BODY_CHARS, description="Markdown")
    status: PageStatus | None = None
    publish_at: datetime | None = Field(
        default=None, description="When a published page goes live (default: when published)"
    )
    seo_title: str | None = Field(default=None, max_length=200)
    seo_description: str | None = Field(default=None, max_length=500)
    canonical_url: AnyHttpUrl | None = None
    og_image_url: AnyHttpUrl | None = None
    noindex: bool | None = Field(default=None, strict=True)


class PageCreate(PageFields):
    slug: str = Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=MAX_BODY_CHARS, description="Markdown")
    status: PageStatus = "draft"


class PageUpdate(PageFields):
    @model_validator(mode="after")
    def _required_fields_stay_set(self) -> PageUpdate:
        cleared = [
            name
            for name in ("slug", "title", "body", "status", "noindex")
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
        return self


class PageRead(BaseModel):
    id: uuid.UUID
    slug: str
    title: str
    body: str
    html: str
    status: str
    publish_at: datetime | None
    is_live: bool = Field(description="Published and its publish time has come")
    seo_title: str | None
    seo_description: str | None
    canonical_url: str | None
    og_image_url: str | None
    noindex: bool
    revision: int
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


class PublicPageRead(BaseModel):
    """What a storefront renders: no Markdown source, no authors."""

    slug: str
    title: str
    html: str
    published_at: datetime | None
    updated_at: datetime
    seo_title: str | None
    seo_description: str | None
    canonical_url: str | None
    og_image_url: str | None
    noindex: bool


class PageRevisionRead(BaseModel):
    revision: int
    author: str
    created_at: datetime
    page: dict[str, Any] = Field(description="The page's editable fields after this save")
