"""Master data synced from the merchant's systems: sales reps, their locations, sync runs.

Branches and stores themselves live in the `locations` module (`location` table); a rep's
location codes refer to those codes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column, uuid_pk


class SalesRep(Base):
    """A sales rep by the merchant's own id; `active` is false once a sync no longer lists them."""

    __tablename__ = "sales_rep"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    rep_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class SalesRepLocation(Base):
    """Which locations (by code) a sales rep looks after."""

    __tablename__ = "sales_rep_location"
    __table_args__ = (Index("ix_sales_rep_location_tenant_code", "tenant_id", "location_code"),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    rep_id: Mapped[str] = mapped_column(Text, primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)


class MasterDataSync(Base):
    """One sync run and its validation report (`problems`: row, column, reason)."""

    __tablename__ = "masterdata_sync"
    __table_args__ = (Index("ix_masterdata_sync_tenant_created", "tenant_id", "created_at", "id"),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    trigger: Mapped[str] = mapped_column(Text)  # manual | daily | ingest_job
    status: Mapped[str] = mapped_column(Text, default="queued")  # queued|running|completed|failed
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
