"""Sales-rep task state. The task lists themselves are computed from events on demand;
only what a rep decided about an item (done, snoozed) is stored, keyed by the item's
stable key within its list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, tenant_id_column, updated_at_column


class TaskStatus(Base):
    __tablename__ = "sales_task_status"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    list_name: Mapped[str] = mapped_column(Text, primary_key=True)
    task_key: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text)  # open | done | snoozed
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = updated_at_column()
