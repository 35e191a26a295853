"""Discount codes and how often each customer has used one."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column


class Discount(Base):
    """A code (stored upper-case) taking `value` % or a fixed `value` off a cart's lines.

    `times_used` counts checkouts that redeemed it; it never passes `usage_limit`.
    """

    __tablename__ = "discount"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        CheckConstraint("kind IN ('percentage', 'fixed')", name="kind_known"),
        CheckConstraint("value > 0 AND (kind = 'fixed' OR value <= 100)", name="value_in_range"),
        CheckConstraint("kind = 'percentage' OR currency IS NOT NULL", name="fixed_has_currency"),
        CheckConstraint(
            "times_used >= 0 AND (usage_limit IS NULL OR times_used <= usage_limit)",
            name="within_usage_limit",
        ),
        CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR starts_at < ends_at", name="window"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(Text)
    min_order: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    times_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class DiscountCustomerUse(Base):
    """How many checkouts of one customer (their id, or a guest's lower-cased e-mail)
    redeemed a code: the per-customer limit is checked against this row under its lock."""

    __tablename__ = "discount_customer_use"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "code"], ["discount.tenant_id", "discount.code"], ondelete="CASCADE"
        ),
        CheckConstraint("times_used >= 0", name="times_used_not_negative"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_key: Mapped[str] = mapped_column(Text, primary_key=True)
    times_used: Mapped[int] = mapped_column(Integer)
