"""Event handlers that notify, and the job that sends one SMS or push message.

E-mail is handed to the mail outbox (which retries on its own); SMS and push go through
`notifications.deliver`, retried with exponential backoff, each attempt recorded on the
delivery row.
"""

from __future__ import annotations

import uuid
from typing import Any

from procrastinate import RetryStrategy
from sqlalchemy import func, select

from mercato.kernel.db import get_database
from mercato.kernel.events import Handler, subscribe
from mercato.kernel.jobs import task
from mercato.modules.notifications.dispatch import dispatch_event
from mercato.modules.notifications.event_catalog import EVENTS
from mercato.modules.notifications.models import NotificationDelivery
from mercato.modules.notifications.providers import OutboundMessage, provider_for
from mercato.settings import get_settings

MAX_ATTEMPTS = 6


async def notify(tenant_id: uuid.UUID, event: str, payload: dict[str, Any]) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await dispatch_event(session, tenant_id, event, payload)


def _handler_for(event: str) -> Handler:
    async def handle(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
        await notify(tenant_id, event, payload)

    # The kernel names each subscriber by module and qualified name: one per event.
    handle.__qualname__ = handle.__name__ = "notify_" + event.replace(".", "_")
    return subscribe(event)(handle)


HANDLERS = {event: _handler_for(event) for event in EVENTS}


@task(
    "notifications.deliver",
    queue="notifications",
    timeout_s=120,
    retry=RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=5),
)
async def deliver_notification(*, tenant_id: str, delivery_id: str) -> None:
    failure: Exception | None = None
    async with get_database().tenant_session(uuid.UUID(tenant_id)) as session:
        # The row lock keeps two workers from sending the same message at once.
        delivery = await session.scalar(
            select(NotificationDelivery)
            .where(
                NotificationDelivery.tenant_id == uuid.UUID(tenant_id),
                NotificationDelivery.id == uuid.UUID(delivery_id),
            )
            .with_for_update()
        )
        if delivery is None or delivery.status == "sent":
            return  # sent by an earlier run: delivery is idempotent
        delivery.attempts += 1
        message = OutboundMessage(
            delivery_id=delivery_id,
            tenant_id=tenant_id,
            event=delivery.event,
            channel=delivery.channel,
            to=delivery.recipient,
            title=delivery.subject,
            text=delivery.body,
        )
        try:
            reference = await provider_for(delivery.channel, get_settings()).send(message)
        except Exception as exc:
            failure = exc
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            delivery.status = "failed" if delivery.attempts >= MAX_ATTEMPTS else "queued"
        else:
            delivery.status = "sent"
            delivery.sent_at = func.now()
            delivery.provider_ref = reference
            delivery.last_error = None
    if failure is not None:
        raise failure  # after the attempt is recorded, so procrastinate retries with backoff
