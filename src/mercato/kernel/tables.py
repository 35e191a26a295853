"""Tables the kernel itself keeps (no tenant data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, created_at_column


class JobFailure(Base):
    """Why a job failed (timeout or exception): procrastinate keeps only the status."""

    __tablename__ = "job_failure"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    task_name: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = created_at_column()


class DemoSeedStep(Base):
    """Which demo seed steps have run, so `serve --demo` seeds each exactly once."""

    __tablename__ = "demo_seed_step"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    completed_at: Mapped[datetime] = created_at_column()
