"""Payments taken before Mercato saw them (the demo shop's history), written in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.payments.models import Payment


async def seed_payments(session: AsyncSession, payments: Sequence[dict[str, Any]]) -> None:
    """Insert settled payments (column → value rows of `payment`) in one statement."""
    await session.execute(insert(Payment), list(payments))
