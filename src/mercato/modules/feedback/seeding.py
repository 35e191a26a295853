"""Feedback recorded by the system rather than a principal (the demo shop's history)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.feedback.models import Feedback


async def has_feedback(session: AsyncSession) -> bool:
    """Whether the session's tenant has any feedback yet."""
    return bool(await session.scalar(select(func.count()).select_from(Feedback)))


def seed_shopper_feedback(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    rating: int,
    category: str,
    comment: str | None,
    context: dict[str, Any],
    contact_email: str | None,
    created_at: datetime,
) -> None:
    """Add one shopper's feedback as given at `created_at` (consent to contact when an
    e-mail is left); written with the session's next flush."""
    session.add(
        Feedback(
            tenant_id=tenant_id,
            rating=rating,
            category=category,
            comment=comment,
            context=context,
            contact_consent=contact_email is not None,
            contact_email=contact_email,
            source="shopper",
            author="system",
            created_at=created_at,
        )
    )
