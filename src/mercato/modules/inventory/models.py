"""Stock per product and location, and the append-only ledger of every stock movement.

`stock_level` is the current state; `stock_movement` is the history it can be rebuilt
from: the sum of `on_hand_delta` per product and location is `on_hand`, the sum of
`reserved_delta` is `reserved`. Check constraints make an oversell impossible even for a
writer that forgot to lock: `reserved` never exceeds `on_hand`, neither goes negative.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column, uuid_pk

MOVEMENT_KINDS = ("receipt", "adjustment", "reservation", "release", "sale", "return", "transfer")


class StockLevel(Base):
    __tablename__ = "stock_level"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "location_code"],
            ["location.tenant_id", "location.code"],
            ondelete="CASCADE",
        ),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_level_location", "tenant_id", "location_code"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = updated_at_column()


class StockMovement(Base):
    """One change of stock: never updated, never deleted."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        CheckConstraint(
            "kind IN ('receipt','adjustment','reservation','release','sale','return','transfer')",
            name="known_kind",
        ),
        Index("ix_stock_movement_product", "tenant_id", "product_id", "location_code", "id"),
        Index("ix_stock_movement_reference", "tenant_id", "reference"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[str] = mapped_column(Text)
    location_code: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str | None] = mapped_column(Text)  # e.g. "order:<id>"
    actor: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
