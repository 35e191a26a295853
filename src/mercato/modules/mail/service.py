"""Queue a message in the caller's transaction; the `mail.deliver` job sends it.

A message that carries a secret (a password-reset or invitation link) is queued with
`sealed=True`: its bodies are encrypted with the server key (`kernel.crypto`), the outbox
keeps only a note in `body_text`, and the sealed copy is erased once the message is sent.
Someone who reads the table (a backup, a support query) cannot recover the link.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.crypto import seal, unseal
from mercato.kernel.jobs import defer
from mercato.modules.mail.models import MailMessage

SEALED_BODY_PURPOSE = "mail-body"
SEALED_NOTE = "(sealed: this message holds a single-use link and is stored encrypted)"


@dataclass(frozen=True)
class MailBody:
    text: str
    html: str | None


def _seal_body(text: str, html: str | None) -> bytes:
    return seal(json.dumps({"text": text, "html": html}).encode(), purpose=SEALED_BODY_PURPOSE)


def open_body(message: MailMessage) -> MailBody:
    """The bodies to send: unsealed when the message was queued with `sealed=True`."""
    if message.body_sealed is None:
        return MailBody(message.body_text, message.body_html)
    opened = json.loads(unseal(message.body_sealed, purpose=SEALED_BODY_PURPOSE))
    return MailBody(str(opened["text"]), opened.get("html"))


async def queue_mail(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    category: str,
    attachments: list[dict[str, str]] | None = None,
    sealed: bool = False,
    tenant_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Add a message to the outbox and enqueue its delivery.

    Nothing is sent if the surrounding transaction rolls back. `sealed=True` for a
    message holding a secret: the bodies are stored encrypted (see the module docstring).
    A tenant's message (`tenant_id`) leaves through the tenant's own SMTP server when it
    has one (`tenant_servers`), else through the global one.
    """
    message = MailMessage(
        recipient=to,
        subject=subject,
        body_text=SEALED_NOTE if sealed else text,
        body_html=None if sealed else html,
        body_sealed=_seal_body(text, html) if sealed else None,
        category=category,
        attachments=attachments or [],
    )
    session.add(message)
    await session.flush()
    tenant = None if tenant_id is None else str(tenant_id)
    await defer(session, "mail.deliver", message_id=str(message.id), tenant_id=tenant)
    return message.id
