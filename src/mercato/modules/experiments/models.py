"""A/B experiments between two recommendation strategies on one placement.

Assignment is computed from the experiment id and the user id (see `assignment`), so no
row is written per shopper; exposures are impression events in the tracking log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import (
    Base,
    created_at_column,
    tenant_id_column,
    updated_at_column,
    uuid_pk,
)


class Experiment(Base):
    __tablename__ = "experiment"
    __table_args__ = (
        CheckConstraint("traffic_split BETWEEN 0 AND 100", name="traffic_split_percent"),
        # One running experiment per placement: the database refuses a second one even
        # when two starts race.
        Index(
            "uq_experiment_running_placement",
            "tenant_id",
            "placement",
            unique=True,
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_experiment_tenant_created", "tenant_id", "created_at", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text)
    placement: Mapped[str] = mapped_column(Text)
    control_strategy: Mapped[str] = mapped_column(Text)
    variant_strategy: Mapped[str] = mapped_column(Text)
    traffic_split: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(Text)
    sequential: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(Text, default="draft")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
