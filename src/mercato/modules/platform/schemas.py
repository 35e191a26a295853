"""Shapes of the operator API (`/api/v1/platform/…`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class TenantUsage(BaseModel):
    """0 for what a module not yet installed would count (products, events)."""

    staff: int
    products: int
    events_month: int = Field(description="Events ingested since the start of this month (UTC)")
    storage_bytes: int = Field(description="Bytes of the tenant's rows as stored, indexes aside")


class OperatorTenantRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    status: str
    created_at: datetime
    deleted_at: datetime | None
    purge_after: datetime | None = Field(description="When a deleted tenant may be purged")
    usage: TenantUsage


class PurgeAccepted(BaseModel):
    tenant_id: uuid.UUID
    job_id: int


class TenantCounts(BaseModel):
    total: int = Field(description="Tenants not deleted")
    active: int
    suspended: int


class FeedPushes(BaseModel):
    succeeded: int
    failed: int


class CategoryMapping(BaseModel):
    mapped: int
    total: int


class PilotKpis(BaseModel):
    """The pilot's business metrics across every tenant.

    Metrics whose source module is not installed are null (see docs/operations.md, "Operators").
    """

    window_days: int
    since: datetime
    tenants: TenantCounts
    active_tenants: int = Field(
        description="Active tenants with a staff login in the last 7 days or events in the window"
    )
    weekly_active_staff: int = Field(description="Staff of live tenants active in the last 7 days")
    feed_push_success_rate: float | None
    feed_pushes: FeedPushes | None
    category_mapping_coverage: float | None
    category_mapping: CategoryMapping | None
    satisfaction_rate: float | None = Field(description="Share of feedback rated 4 or 5")
    feedback_count: int
    feedback_satisfied: int
    events_ingested: int | None
