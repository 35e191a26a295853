"""Queue a message in the caller's transaction; the `mail.deliver` job sends it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.jobs import defer
from mercato.modules.mail.models import MailMessage


async def queue_mail(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    category: str,
    attachments: list[dict[str, str]] | None = None,
) -> uuid.UUID:
    """Add a message to the outbox and enqueue its delivery.

    Nothing is sent if the surrounding transaction rolls back.
    """
    from mercato.modules.mail.jobs import deliver_mail

    message = MailMessage(
        recipient=to,
        subject=subject,
        body_text=text,
        body_html=html,
        category=category,
        attachments=attachments or [],
    )
    session.add(message)
    await session.flush()
    await defer(session, deliver_mail, message_id=str(message.id))
    return message.id
