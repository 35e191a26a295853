"""Request and response shapes of the Merchant Center feed: precheck, push jobs, the hosted
feed's settings and the Merchant Center accounts (Channels section of API.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ACCOUNT_ID_PATTERN = r"^[0-9]{1,20}$"
MAX_PRECHECK_IDS = 10_000


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


class FeedItemIssueRead(BaseModel):
    """One of Google's item-level issues; `fix` is Mercato's advice for a known code."""

    code: str
    severity: str = Field(description="not_impacted, demoted or disapproved (Google's)")
    attribute: str | None
    countries: list[str]
    resolution: str | None
    reporting_context: str | None
    description: str | None
    documentation: str | None
    fix: str | None


class FeedItemRead(BaseModel):
    """One product in a Merchant Center account, with Google's status read back."""

    product_id: str
    account_id: str
    status: Literal["approved", "pending", "disapproved"]
    issues: list[FeedItemIssueRead]
    checked_at: datetime | None = Field(description="When Google's status was last read")
    pushed_at: datetime | None
    push_error: str | None


class FeedSettingsRead(BaseModel):
    feed_url: str
    tsv_url: str
    rotated_at: datetime


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
