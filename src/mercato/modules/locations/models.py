"""Locations of a merchant: stores, branches, warehouses — where stock lives and sales happen."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column


class Location(Base):
    __tablename__ = "location"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, default="store")  # store|branch|warehouse|online
    address: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="active")  # active | archived
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
