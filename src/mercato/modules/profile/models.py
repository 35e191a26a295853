"""The business profile: one row per tenant with the merchant's public identity (NAP, hours,
links, SEO), as shown on its site, in JSON-LD and to Google."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKeyConstraint, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column, tenant_id_column, updated_at_column


class BusinessProfile(Base):
    __tablename__ = "business_profiles"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    name: Mapped[str | None] = mapped_column(Text)
    business_type: Mapped[str] = mapped_column(Text, default="LocalBusiness")
    description: Mapped[str | None] = mapped_column(Text)
    street_address: Mapped[str | None] = mapped_column(Text)
    locality: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    postal_code: Mapped[str | None] = mapped_column(Text)
    country_code: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)  # E.164 when it parsed, else as given
    email: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    regular_hours: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    special_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    social_links: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    seo_title: Mapped[str | None] = mapped_column(Text)
    seo_description: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    price_range: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    geo_source: Mapped[str | None] = mapped_column(Text)  # manual | geocoder name
    geocoding_status: Mapped[str] = mapped_column(Text, default="skipped")
    geocoded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
