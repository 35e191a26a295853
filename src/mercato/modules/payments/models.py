"""Payments of orders, their refunds, and the Stripe events already processed."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column, uuid_pk


class Payment(Base):
    """One attempt to collect an order's total through a provider."""

    __tablename__ = "payment"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index("ix_payment_order", "tenant_id", "order_id"),
        Index("ix_payment_reference", "tenant_id", "provider", "provider_reference"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    provider: Mapped[str] = mapped_column(Text)  # manual | stripe
    # requires_payment | succeeded | failed | refunded | partially_refunded
    status: Mapped[str] = mapped_column(Text, default="requires_payment")
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(Text)
    provider_reference: Mapped[str | None] = mapped_column(Text)  # PaymentIntent id
    client_secret: Mapped[str | None] = mapped_column(Text)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Refund(Base):
    """Money given back. `pending` until the provider accepted it (a return's refund is
    recorded first and sent after commit, retried by a job); its amount counts against
    what is left to refund from the moment the row exists. One refund per return at most
    (`return_id` unique), and the provider's idempotency key is the row's id."""

    __tablename__ = "refund"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "payment_id"], ["payment.tenant_id", "payment.id"], ondelete="CASCADE"
        ),
        Index("ix_refund_order", "tenant_id", "order_id"),
        UniqueConstraint("tenant_id", "return_id"),
        CheckConstraint("status IN ('pending', 'succeeded')", name="status_known"),
        Index("ix_refund_pending", "tenant_id", "id", postgresql_where="status = 'pending'"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    payment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    provider_reference: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="succeeded", server_default="succeeded")
    return_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()


class StripeEvent(Base):
    """A Stripe event id seen once: a redelivery of the same id changes nothing."""

    __tablename__ = "stripe_event"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    type: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column()
