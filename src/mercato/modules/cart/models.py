"""Carts and their lines, plus the tax and shipping tables that price them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column

TENANT_WIDE = "*"  # the tax scope that applies where a location has no rate of its own


class Cart(Base):
    """A shopper's cart. Its id is random (UUIDv4), so it is the guest's unguessable token."""

    __tablename__ = "cart"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        Index("ix_cart_customer", "tenant_id", "customer_id", "status"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    location_code: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="active")  # active|merged|ordered
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    discount_code: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class CartItem(Base):
    __tablename__ = "cart_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "cart_id"], ["cart.tenant_id", "cart.id"], ondelete="CASCADE"
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    cart_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = created_at_column()


class TaxRate(Base):
    """A tax rate (0.19 = 19 %) for one location code, or tenant-wide with scope `*`."""

    __tablename__ = "tax_rate"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        CheckConstraint("rate >= 0 AND rate < 1", name="rate_fraction"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 5))
    updated_at: Mapped[datetime] = updated_at_column()


class ShippingRate(Base):
    """Flat shipping per currency, free when the subtotal reaches `free_over`."""

    __tablename__ = "shipping_rate"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        CheckConstraint("flat_amount >= 0", name="flat_not_negative"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    flat_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    free_over: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    updated_at: Mapped[datetime] = updated_at_column()
