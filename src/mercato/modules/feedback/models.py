"""Feedback left by staff in the dashboard or by shoppers on the storefront."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, SmallInteger, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, uuid_pk


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # A contact address is only kept when the person agreed to be contacted.
        CheckConstraint("contact_email IS NULL OR contact_consent", name="contact_needs_consent"),
        Index("ix_feedback_tenant_created", "tenant_id", "created_at", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    rating: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    # Where it was given: {"page": "/checkout", "feature": "recommendations"}.
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_email: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # staff | shopper | api
    author: Mapped[str] = mapped_column(Text)  # user:<id> | api_key:<id>
    created_at: Mapped[datetime] = created_at_column()
