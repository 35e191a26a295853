"""Fitted model versions: which blob holds a tenant's latest model and what it learnt from.

The model itself is a `.npz` file (arrays only, see `model_file`) kept as the tenant's
shared blob whose key is `path` (see `storage`); this table is the index API processes
read to find the newest one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, tenant_id_column


class RecoModel(Base):
    __tablename__ = "reco_model"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    strategy: Mapped[str] = mapped_column(Text)
    fitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    events: Mapped[int] = mapped_column(BigInteger)
    products: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    fit_seconds: Mapped[float] = mapped_column(Float)
    data_mark: Mapped[str] = mapped_column(Text)
    """What the inputs looked like (event and product counts, newest change): a fit
    whose inputs carry the same mark would learn nothing new and is skipped."""
    scores: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    """Offline scores per strategy, `{strategy: {"hit_rate", "ndcg"}}` (see `fitting`)."""
