"""A/B/n experiments between recommendation strategies on one placement.

`arms` is the design: `[{"name", "strategy", "weight"}, ...]`, 2 to 6, the first being
control. An experiment created with `control_strategy`, `variant_strategy` and
`traffic_split` has the arms `control` (weight `traffic_split`) and `variant` (the rest);
those three columns stay filled for readers of the original contract. Assignment is
computed from the experiment id and the user id (see `assignment`), so no row is written
per shopper; exposures are impression events in the tracking log.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB
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
        CheckConstraint(
            "jsonb_typeof(arms) = 'array' AND jsonb_array_length(arms) BETWEEN 2 AND 6",
            name="arms_count",
        ),
        CheckConstraint("jsonb_typeof(guardrails) = 'array'", name="guardrails_list"),
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
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    metric: Mapped[str] = mapped_column(Text)
    guardrails: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    sequential: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(Text, default="draft")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
