"""How queued messages went: the delivery record other modules show beside their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.mail.models import MailMessage


@dataclass(frozen=True)
class MailOutcome:
    status: str  # queued | sent | failed
    attempts: int
    last_error: str | None
    sent_at: datetime | None


async def mail_outcomes(
    session: AsyncSession, message_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, MailOutcome]:
    """The outcome of each message the session's tenant queued; unknown ids are absent."""
    ids = list(set(message_ids))
    if not ids:
        return {}
    columns = (
        MailMessage.id,
        MailMessage.status,
        MailMessage.attempts,
        MailMessage.last_error,
        MailMessage.sent_at,
    )
    rows = await session.execute(select(*columns).where(MailMessage.id.in_(ids)))
    return {
        row.id: MailOutcome(row.status, row.attempts, row.last_error, row.sent_at) for row in rows
    }
