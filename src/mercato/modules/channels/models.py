"""Channel tables: Google's taxonomy (global), alignment history, the Google link and its
Merchant Center targets, feed push jobs with their per-item results, the hosted feed's
token, Google Business Profile locations with their daily insights and the state of
the business profile's push, and the live sync's state: products waiting to be
synced, what each account holds (pushed hash, Google's status) and the local
inventories sent per store.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import (
    Base,
    created_at_column,
    tenant_id_column,
    updated_at_column,
    uuid_pk,
)


def _tenant_fk() -> ForeignKeyConstraint:
    """Rows go with their tenant when it is purged."""
    return ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE")


# Words of the leaf weigh most, the levels above it less.
TAXONOMY_SEARCH_SQL = (
    "setweight(to_tsvector('english'::regconfig, name), 'A') || "
    "setweight(to_tsvector('english'::regconfig, path), 'B')"
)
ACTIVE_PUSH = text("status IN ('queued', 'processing')")


class GoogleProductCategory(Base):
    """One category of Google's product taxonomy: reference data shared by every tenant."""

    __tablename__ = "google_product_categories"
    __table_args__ = (
        Index("ix_google_product_categories_search", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    path: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[str] = mapped_column(Text)
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(TAXONOMY_SEARCH_SQL, persisted=True), deferred=True
    )
    loaded_at: Mapped[datetime] = created_at_column()  # set again by each load


class CategoryAlignmentAudit(Base):
    """Every change of a category's Google category: who, from what, to what, and why."""

    __tablename__ = "category_alignment_audit"
    __table_args__ = (
        _tenant_fk(),
        Index("ix_category_alignment_audit_category", "tenant_id", "category_id", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    category_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    category_path: Mapped[str] = mapped_column(Text)
    previous_google_category_id: Mapped[int | None] = mapped_column(Integer)
    google_category_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)  # manual | suggestion | demo
    score: Mapped[float | None] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class GoogleOAuthLink(Base):
    """A tenant's grant from a Google account: tokens sealed with the server secret."""

    __tablename__ = "google_oauth_links"
    __table_args__ = (_tenant_fk(),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    google_email: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    access_token_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_token_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, default="active")  # active | revoked
    last_error: Mapped[str | None] = mapped_column(Text)
    linked_by: Mapped[str] = mapped_column(Text)
    linked_at: Mapped[datetime] = created_at_column()
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = updated_at_column()


class GoogleMerchantLink(Base):
    """A Merchant Center account (and its API data source) the tenant's products go to."""

    __tablename__ = "google_merchant_links"
    __table_args__ = (_tenant_fk(),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    data_source_id: Mapped[str] = mapped_column(Text)
    content_language: Mapped[str] = mapped_column(Text)
    feed_label: Mapped[str] = mapped_column(Text)
    daily_push: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class FeedPushJob(Base):
    """One push of the tenant's valid products to one Merchant Center account.

    queued → processing → success | failed; a failed job may be queued again by staff.
    At most one job per account is queued or processing at a time.
    """

    __tablename__ = "feed_push_jobs"
    __table_args__ = (
        _tenant_fk(),
        Index(
            "uq_feed_push_jobs_one_active",
            "tenant_id",
            "account_id",
            unique=True,
            postgresql_where=ACTIVE_PUSH,
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    account_id: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="queued")
    trigger: Mapped[str] = mapped_column(Text)  # manual | schedule | retry
    requested_by: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    items_checked: Mapped[int] = mapped_column(Integer, default=0)
    items_skipped: Mapped[int] = mapped_column(Integer, default=0)
    items_succeeded: Mapped[int] = mapped_column(Integer, default=0)
    items_failed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(Text)


class FeedPushItem(Base):
    """What happened to one product in a push: pushed, failed at Google, or skipped by the
    precheck (then `error` lists the blocking issue codes)."""

    __tablename__ = "feed_push_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["feed_push_jobs.tenant_id", "feed_push_jobs.id"],
            ondelete="CASCADE",
        ),
        Index("ix_feed_push_items_outcome", "tenant_id", "job_id", "outcome", "product_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    outcome: Mapped[str] = mapped_column(Text)  # pushed | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = updated_at_column()


class HostedFeed(Base):
    """The secret token in the tenant's public feed URLs, and what the feed last looked like.

    The token is sealed (staff read the URL back) and also stored as a keyed hash, which is
    how an anonymous fetch finds its tenant. The ETag of each format and when it last
    changed are kept so `Last-Modified` says when the content changed, not when it was read.
    """

    __tablename__ = "hosted_feeds"
    __table_args__ = (_tenant_fk(), Index("ix_hosted_feeds_token_hash", "token_hash"))

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    token_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    rotated_at: Mapped[datetime] = created_at_column()
    xml_etag: Mapped[str | None] = mapped_column(Text)
    xml_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tsv_etag: Mapped[str | None] = mapped_column(Text)
    tsv_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GbpLocation(Base):
    """A Google Business Profile location, linked to one of ours by store code when it can."""

    __tablename__ = "gbp_locations"
    __table_args__ = (
        _tenant_fk(),
        Index("ix_gbp_locations_location", "tenant_id", "location_code"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    gbp_location_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    store_code: Mapped[str | None] = mapped_column(Text)
    location_code: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    imported_at: Mapped[datetime] = created_at_column()  # set again by each import
    insights_through: Mapped[date | None] = mapped_column(Date)


class GbpInsightDaily(Base):
    """One day of a GBP location's performance as Google reports it."""

    __tablename__ = "gbp_insights_daily"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "gbp_location_id"],
            ["gbp_locations.tenant_id", "gbp_locations.gbp_location_id"],
            ondelete="CASCADE",
        ),
        Index("ix_gbp_insights_daily_day", "tenant_id", "day"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    gbp_location_id: Mapped[str] = mapped_column(Text, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    direction_requests: Mapped[int] = mapped_column(Integer, default=0)
    website_clicks: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = created_at_column()  # set again by each import


class GbpProfileSync(Base):
    """Where the business profile is pushed (one Business Profile location), what Google
    and Mercato last agreed on per field (the baseline) and the fields in conflict."""

    __tablename__ = "gbp_profile_sync"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "gbp_location_id"],
            ["gbp_locations.tenant_id", "gbp_locations.gbp_location_id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    gbp_location_id: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="idle")  # idle|queued|pushed|failed
    baseline: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # field → {"reason", "mercato", "google", "detected_at"}
    conflicts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    pushed_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class FeedSyncPending(Base):
    """A product whose Merchant Center copy may be stale: it changed in the catalog or in
    stock since the last live sync took it (`changed_at` moves with each new change)."""

    __tablename__ = "feed_sync_pending"
    __table_args__ = (_tenant_fk(),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    changed_at: Mapped[datetime] = created_at_column()


class FeedSyncSchedule(Base):
    """The tenant's scheduled live sync: a row while one job waits, so changes arriving in
    the debounce window join it instead of each deferring a job."""

    __tablename__ = "feed_sync_schedule"
    __table_args__ = (_tenant_fk(),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MerchantItem(Base):
    """One product in a Merchant Center account: what Mercato last pushed (a hash of the
    `ProductInput`) and what Google says of it (status and item-level issues)."""

    __tablename__ = "merchant_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["google_merchant_links.tenant_id", "google_merchant_links.account_id"],
            ondelete="CASCADE",
        ),
        Index("ix_merchant_item_status", "tenant_id", "status", "offer_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    offer_id: Mapped[str] = mapped_column(Text, primary_key=True)
    content_hash: Mapped[str | None] = mapped_column(Text)
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    push_error: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)  # approved | pending | disapproved
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MerchantLocalInventory(Base):
    """What Mercato last sent as one product's local inventory at one store."""

    __tablename__ = "merchant_local_inventory"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["google_merchant_links.tenant_id", "google_merchant_links.account_id"],
            ondelete="CASCADE",
        ),
        Index("ix_merchant_local_inventory_store", "tenant_id", "store_code"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    offer_id: Mapped[str] = mapped_column(Text, primary_key=True)
    store_code: Mapped[str] = mapped_column(Text, primary_key=True)
    content_hash: Mapped[str] = mapped_column(Text)
    pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
