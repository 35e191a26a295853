"""Notification preferences per tenant, and the log of every message sent or tried."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column, uuid_pk


class NotificationPreference(Base):
    """One row per tenant that chose its own rules (no row: the defaults apply)."""

    __tablename__ = "notification_preference"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    locale: Mapped[str | None] = mapped_column(Text)  # None: the tenant's locale
    # [{"event", "channel", "enabled", "recipients": [...]}], validated by the schemas.
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = updated_at_column()


class NotificationDelivery(Base):
    """One message to one recipient on one channel for one occurrence of an event.

    The unique key makes handling an event twice (a retried job) send nothing twice.
    E-mail goes through the mail outbox (`provider_ref` is its message id); SMS and push
    are sent by the `notifications.deliver` job with retries.
    """

    __tablename__ = "notification_delivery"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "event",
            "event_key",
            "channel",
            "recipient",
            name="uq_notification_delivery_once",
        ),
        Index("ix_notification_delivery_tenant_created", "tenant_id", "created_at", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    event: Mapped[str] = mapped_column(Text)
    event_key: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)  # email | sms | push
    recipient: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="queued")  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
