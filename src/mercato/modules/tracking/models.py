"""Tracking tables: the partitioned event log, its dedup keys, and ingestion jobs.

`event` is range-partitioned by month on `occurred_at` (partitions `event_pYYYY_MM`,
created ahead by a periodic job and on demand, see `partitions.py`); its primary key
includes the partition column and serves time-range reads; one more index serves a
shopper's events. Each index costs every insert, so analytics read rollups rather than
ask for more here. Uniqueness of an event across *all* partitions cannot be
a unique index on `event` (PostgreSQL requires the partition column in it, and the same
`event_id` may arrive with two different timestamps), so it lives in `event_key`: one
narrow row per stored event, keyed by `(tenant_id, key)`. Ingestion inserts the keys
first (`ON CONFLICT DO NOTHING`) and stores only the events whose key was new, in one
statement.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, uuid_pk

MONEY = Numeric(18, 4)


class Event(Base):
    """One behavioural event as it was accepted (rows are never updated)."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_tenant_user", "tenant_id", "user_id", "occurred_at"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)  # see event_key
    type: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(Text)
    product_id: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    results_count: Mapped[int | None] = mapped_column(Integer)
    placement: Mapped[str | None] = mapped_column(Text)
    strategy: Mapped[str | None] = mapped_column(Text)
    experiment_id: Mapped[str | None] = mapped_column(Text)
    variant: Mapped[str | None] = mapped_column(Text)
    location_code: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # api | ga4_file | bigquery | simulator
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class EventKey(Base):
    """The dedup key of every stored event, across all partitions of `event`.

    `key` is 16 bytes of BLAKE2b over the client's `event_id` (or, without one, over user,
    type, product and timestamp). `occurred_at` says in which partition the event lives,
    so retention and re-imports delete keys together with their events.
    """

    __tablename__ = "event_key"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    key: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IngestJob(Base):
    """An import of events from an outside source, run as a background job."""

    __tablename__ = "ingest_job"
    __table_args__ = (Index("ix_ingest_job_tenant_created", "tenant_id", "created_at", "id"),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    source: Mapped[str] = mapped_column(Text)  # ga4_file | bigquery | sftp
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, default="queued")  # queued|running|completed|failed
    requested_by: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
