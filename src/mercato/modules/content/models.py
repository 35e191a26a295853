"""Content pages (about, shipping, returns …) and every revision of them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import (
    Base,
    created_at_column,
    tenant_id_column,
    updated_at_column,
    uuid_pk,
)


class ContentPage(Base):
    """A page; `html` is the sanitized rendering of `body`, kept so reads never re-render.

    A published page with `publish_at` in the future is scheduled: storefronts see it
    from that moment on.
    """

    __tablename__ = "content_page"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        Index("ix_content_page_tenant_updated", "tenant_id", "updated_at", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    slug: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="draft")  # draft | published | archived
    publish_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seo_title: Mapped[str | None] = mapped_column(Text)
    seo_description: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    og_image_url: Mapped[str | None] = mapped_column(Text)
    noindex: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class ContentPageRevision(Base):
    """The page as it was after each save: its editable fields, who saved it, when."""

    __tablename__ = "content_page_revision"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "page_id"],
            ["content_page.tenant_id", "content_page.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    page_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    author: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
