"""How a recommendation widget looks on one placement of the merchant's site."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, tenant_id_column, updated_at_column


class WidgetConfig(Base):
    __tablename__ = "widget_config"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    placement: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(Text)
    columns: Mapped[int] = mapped_column(Integer)
    max_items: Mapped[int] = mapped_column(Integer)
    show_price: Mapped[bool] = mapped_column(Boolean)
    cta_text: Mapped[str] = mapped_column(Text)
    product_url: Mapped[str | None] = mapped_column(Text)
    theme: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = updated_at_column()
