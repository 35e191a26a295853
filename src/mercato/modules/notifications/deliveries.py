"""The delivery log: what was sent to whom, and how it went."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.pagination import newest_first
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.mail import MailOutcome, mail_outcomes
from mercato.modules.notifications.models import NotificationDelivery


@dataclass(frozen=True)
class DeliveryView:
    delivery: NotificationDelivery
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


async def _mail_outcomes(
    session: AsyncSession, deliveries: list[NotificationDelivery]
) -> dict[str, MailOutcome]:
    """E-mail deliveries report the mail outbox's own status and attempts."""
    ids = [uuid.UUID(d.provider_ref) for d in deliveries if d.channel == "email" and d.provider_ref]
    return {str(id_): outcome for id_, outcome in (await mail_outcomes(session, ids)).items()}


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    *,
    event: str | None,
    channel: str | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[DeliveryView], str | None]:
    """Newest first, with e-mail outcomes read from the mail outbox."""
    principal.require(Permission.NOTIFICATIONS_READ)
    query = select(NotificationDelivery)
    if event:
        query = query.where(NotificationDelivery.event == event)
    if channel:
        query = query.where(NotificationDelivery.channel == channel)
    rows, next_cursor = await newest_first(session, query, limit=limit, cursor=cursor)
    mails = await _mail_outcomes(session, rows)
    views = []
    for row in rows:
        mail = mails.get(row.provider_ref or "")
        if mail is not None:
            views.append(
                DeliveryView(row, mail.status, mail.attempts, mail.last_error, mail.sent_at)
            )
        else:
            views.append(DeliveryView(row, row.status, row.attempts, row.last_error, row.sent_at))
    return views, next_cursor


async def expire_deliveries(session: AsyncSession, *, before: datetime) -> int:
    """Drop the session tenant's delivery log entries older than `before` (retention)."""
    result = await session.execute(
        delete(NotificationDelivery).where(NotificationDelivery.created_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
