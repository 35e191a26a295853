"""Orders, their lines (with the location their stock was reserved at) and history."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column, uuid_pk


class SalesOrder(Base):
    """An order (`order` is an SQL keyword). `stock_state`: reserved → sold, or released.

    Addresses and the discount are copied from the checkout and never change (a trigger of
    migration 0180 refuses an UPDATE of them). `subtotal` is before the discount; `total`
    = subtotal - discount_total + tax + shipping is what is charged.
    """

    __tablename__ = "sales_order"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_sales_order_created", "tenant_id", "created_at"),
        Index("ix_sales_order_status", "tenant_id", "status", "created_at"),
        Index(
            "ix_sales_order_reserved_until",
            "tenant_id",
            "reserved_until",
            postgresql_where="stock_state = 'reserved'",
        ),
        CheckConstraint("total >= 0 AND refunded_amount >= 0", name="amounts_not_negative"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    cart_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    user_id: Mapped[str | None] = mapped_column(Text)  # the tracking user, for analytics joins
    email: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="pending")
    currency: Mapped[str] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    shipping: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    discount_code: Mapped[str | None] = mapped_column(Text)
    discount_total: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("0"), server_default="0"
    )
    payment_provider: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    request_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    stock_state: Mapped[str] = mapped_column(Text, default="reserved")
    reserved_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class OrderItem(Base):
    __tablename__ = "order_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["sales_order.tenant_id", "sales_order.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    quantity: Mapped[int] = mapped_column(Integer)
    # This row's share of the order's discount (a line's discount split over locations).
    discount: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("0"), server_default="0"
    )


class OrderHistory(Base):
    """Every status change of an order, who made it and when."""

    __tablename__ = "order_history"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["sales_order.tenant_id", "sales_order.id"],
            ondelete="CASCADE",
        ),
        Index("ix_order_history_order", "tenant_id", "order_id", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class Shipment(Base):
    """Units of an order that left `location_code` in one parcel.

    status: shipped → delivered. Its lines say which product units went, and which of the
    order's allocations (the location the units were sold at) each consumed.
    """

    __tablename__ = "shipment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["sales_order.tenant_id", "sales_order.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("status IN ('shipped', 'delivered')", name="status_known"),
        Index("ix_shipment_order", "tenant_id", "order_id", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    location_code: Mapped[str] = mapped_column(Text)
    carrier: Mapped[str | None] = mapped_column(Text)
    tracking_number: Mapped[str | None] = mapped_column(Text)
    tracking_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="shipped")
    actor: Mapped[str] = mapped_column(Text)
    shipped_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ShipmentLine(Base):
    """`quantity` units of a product in a shipment, taken from the order's allocation at
    `allocation_location` (where checkout reserved and payment sold them)."""

    __tablename__ = "shipment_line"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["shipment.tenant_id", "shipment.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_shipment_line_order", "tenant_id", "order_id", "product_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    shipment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    allocation_location: Mapped[str] = mapped_column(Text, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[int] = mapped_column(Integer)


class OrderReturn(Base):
    """A return (RMA): shipped units coming back, and the money owed for them."""

    __tablename__ = "order_return"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["sales_order.tenant_id", "sales_order.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("refund_amount >= 0", name="refund_not_negative"),
        Index("ix_order_return_order", "tenant_id", "order_id", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(Text)
    refund_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class ReturnLine(Base):
    """Returned units of one product; `location_code` is where they were restocked (None:
    not restocked — damaged, kept by the shopper)."""

    __tablename__ = "return_line"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "return_id"],
            ["order_return.tenant_id", "order_return.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("NOT restock OR location_code IS NOT NULL", name="restock_has_location"),
        Index("ix_return_line_order", "tenant_id", "order_id", "product_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    return_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[int] = mapped_column(Integer)
    restock: Mapped[bool] = mapped_column(Boolean)
    location_code: Mapped[str | None] = mapped_column(Text)
    refund_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
