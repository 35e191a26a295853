"""Request and response shapes of the Channels section of API.md and its companions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ACCOUNT_ID_PATTERN = r"^[0-9]{1,20}$"
MAX_PRECHECK_IDS = 10_000


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


class PrecheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[str] | None = Field(default=None, max_length=MAX_PRECHECK_IDS)


class PrecheckIssueRead(BaseModel):
    product_id: str
    attribute: str
    severity: Literal["error", "warning", "info"]
    code: str
    message: str


class PrecheckRead(BaseModel):
    checked: int
    valid: int
    invalid: int
    issues: list[PrecheckIssueRead]


class FeedPushBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str | None = Field(default=None, pattern=ACCOUNT_ID_PATTERN)


class FeedPushAccepted(BaseModel):
    job_id: uuid.UUID


FeedJobStatus = Literal["queued", "processing", "success", "failed"]


class FeedJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: FeedJobStatus
    account_id: str
    trigger: str
    requested_by: str
    attempts: int
    max_attempts: int
    error: str | None
    items_checked: int
    items_skipped: int
    items_succeeded: int
    items_failed: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    cancelled_by: str | None


class FeedJobStatusBody(BaseModel):
    """`failed` cancels a queued or running job; `queued` retries a failed one."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["queued", "failed"]


class FeedJobItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: str
    outcome: Literal["pushed", "failed", "skipped"]
    attempts: int
    status_code: int | None
    error: str | None


class FeedSettingsRead(BaseModel):
    feed_url: str
    tsv_url: str
    rotated_at: datetime


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


class MerchantLinkWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_source_id: str = Field(pattern=ACCOUNT_ID_PATTERN)
    content_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    feed_label: str = Field(pattern=r"^[A-Z0-9_-]{1,20}$")
    daily_push: bool = Field(default=True, strict=True)


class MerchantLinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account_id: str
    data_source_id: str
    content_language: str
    feed_label: str
    daily_push: bool
    created_at: datetime
    updated_at: datetime


class MerchantLinkList(BaseModel):
    data: list[MerchantLinkRead]


class GbpLocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    gbp_location_id: str
    account_id: str
    title: str
    store_code: str | None
    location_code: str | None
    address: str | None
    phone: str | None
    website: str | None
    latitude: float | None
    longitude: float | None
    imported_at: datetime
    insights_through: date | None


class GbpLocationList(BaseModel):
    data: list[GbpLocationRead]


class GbpLocationLink(BaseModel):
    """Which of our locations a Business Profile location is; null unlinks it."""

    model_config = ConfigDict(extra="forbid")

    location_code: str | None


class GbpInsightRead(BaseModel):
    gbp_location_id: str
    location_code: str | None
    day: date
    views: int
    searches: int
    calls: int
    direction_requests: int
    website_clicks: int


class GbpInsightList(BaseModel):
    data: list[GbpInsightRead]


class GbpSyncAccepted(BaseModel):
    queued: bool
