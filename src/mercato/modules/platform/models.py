"""What the platform keeps about tenants it has purged (the tenant's own rows are gone)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base


class PurgedTenant(Base):
    """Proof of a hard delete: which tenant, when, and how many rows left each table.

    Written only by the `platform_purge_tenant` SQL function, in the purge's transaction.
    """

    __tablename__ = "purged_tenant"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    slug: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    rows_deleted: Mapped[dict[str, int]] = mapped_column(JSONB)
