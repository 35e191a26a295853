"""Deliver queued mail, retrying with backoff; the outbox row records every attempt.

A tenant's message goes through the tenant's SMTP server when it has one; a failure there
is recorded in our words (`TenantSmtpFailed`), never the remote server's.
"""

from __future__ import annotations

import uuid

from procrastinate import RetryStrategy
from sqlalchemy import func, select

from mercato.kernel.db import get_database
from mercato.kernel.jobs import task
from mercato.modules.mail.models import MailMessage
from mercato.modules.mail.tenant_servers import TenantSmtpFailed, tenant_smtp
from mercato.modules.mail.transport import deliver
from mercato.settings import get_settings

MAX_ATTEMPTS = 6


@task(
    "mail.deliver",
    queue="mail",
    timeout_s=120,
    retry=RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=5),
)
async def deliver_mail(*, message_id: str, tenant_id: str | None = None) -> None:
    failure: Exception | None = None
    server = await tenant_smtp(uuid.UUID(tenant_id)) if tenant_id is not None else None
    # The row lock keeps two workers from sending the same message at once.
    async with get_database().session() as session:
        message = await session.scalar(
            select(MailMessage).where(MailMessage.id == uuid.UUID(message_id)).with_for_update()
        )
        if message is None or message.status == "sent":
            return  # already delivered by an earlier run: delivery is idempotent
        message.attempts += 1
        try:
            await deliver(message, get_settings(), server)
        except Exception as exc:
            failure = exc
            shown = (
                str(exc) if isinstance(exc, TenantSmtpFailed) else f"{type(exc).__name__}: {exc}"
            )
            message.last_error = shown[:1000]
            message.status = "failed" if message.attempts >= MAX_ATTEMPTS else "queued"
        else:
            message.status = "sent"
            message.sent_at = func.now()
            message.last_error = None
            message.body_sealed = None  # the secret now lives only in the recipient's mailbox
    if failure is not None:
        raise failure  # after the attempt is recorded, so procrastinate retries with backoff
