"""Tables the kernel itself keeps: job failures and demo seed steps (no tenant data), and
the shared blob store's objects and chunks (tenant data, row-level security)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, uuid_pk


class JobFailure(Base):
    """Why a job failed (timeout or exception): procrastinate keeps only the status."""

    __tablename__ = "job_failure"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    task_name: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = created_at_column()


class DemoSeedStep(Base):
    """Which demo seed steps have run, so `serve --demo` seeds each exactly once."""

    __tablename__ = "demo_seed_step"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    completed_at: Mapped[datetime] = created_at_column()


class SharedBlob(Base):
    """One stored file of a tenant (a fitted model, an upload waiting for its import job),
    readable by every process; see `mercato.kernel.blobs`.

    A write adds a row that is not `ready`, then its chunks, then makes it ready in the
    transaction that deletes the previous version of the key: a reader never sees half a
    file, and at most one ready row per key exists.
    """

    __tablename__ = "shared_blob"
    __table_args__ = (
        Index(
            "ux_shared_blob_key",
            "tenant_id",
            "key",
            unique=True,
            postgresql_where=text("ready"),
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(Text)
    ready: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    store: Mapped[str] = mapped_column(Text)
    """`postgres` (the bytes are `shared_blob_chunk` rows) or `s3` (one object)."""
    content_type: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    sha256: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SharedBlobChunk(Base):
    """Up to 1 MiB of a blob stored in PostgreSQL, in order of `seq`."""

    __tablename__ = "shared_blob_chunk"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "blob_id"],
            ["shared_blob.tenant_id", "shared_blob.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    blob_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
