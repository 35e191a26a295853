"""Email reports: who receives each branch's report, when reports go out, what was sent."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column, uuid_pk


class ReportRecipient(Base):
    """One recipient of a branch's (location's) report."""

    __tablename__ = "report_recipient"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    email: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = created_at_column()


class ReportSchedule(Base):
    """A daily or weekly send at `hour` (and `weekday`, 0 = Monday) in the tenant's time zone."""

    __tablename__ = "report_schedule"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    frequency: Mapped[str] = mapped_column(Text, primary_key=True)  # daily | weekly
    hour: Mapped[int] = mapped_column(Integer)
    weekday: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_on: Mapped[date | None] = mapped_column(Date)  # local date of the last send
    updated_at: Mapped[datetime] = updated_at_column()


class ReportJob(Base):
    """One run of the reports for a period, to every mapped branch (or one)."""

    __tablename__ = "report_job"
    __table_args__ = (Index("ix_report_job_tenant_created", "tenant_id", "created_at", "id"),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    trigger: Mapped[str] = mapped_column(Text)  # manual | daily | weekly
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    location_code: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="queued")  # queued|running|completed|failed
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReportDelivery(Base):
    """One message of a job: the branch, the recipient and the outbox message carrying it."""

    __tablename__ = "report_delivery"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    recipient: Mapped[str] = mapped_column(Text, primary_key=True)
    mail_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
