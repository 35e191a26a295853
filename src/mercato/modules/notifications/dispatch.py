"""Turn one domain event into deliveries, once per (event occurrence, channel, recipient).

Runs inside the event handler's tenant transaction: the delivery rows, the mail outbox
entries and the SMS/push jobs commit together, so a crash re-runs the handler and the
unique key on `notification_delivery` keeps it from sending anything twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.jobs import defer
from mercato.kernel.logging import get_logger
from mercato.modules.identity import member_emails, tenant_facts
from mercato.modules.mail import queue_mail
from mercato.modules.notifications.event_catalog import event_key
from mercato.modules.notifications.messages import Message, render_message
from mercato.modules.notifications.models import NotificationDelivery
from mercato.modules.notifications.preferences import load_preferences
from mercato.modules.notifications.schemas import CUSTOMER, ROLE_PREFIX, NotificationRule

log = get_logger("mercato.notifications")

CUSTOMER_FIELDS = {
    "email": "customer_email",
    "sms": "customer_phone",
    "push": "customer_push_token",
}


async def recipients_for(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    rule: NotificationRule,
    payload: dict[str, Any],
) -> list[str]:
    """Literal recipients as they are; `role:<role>` and `customer` resolved now."""
    found: list[str] = []
    for recipient in rule.recipients:
        if recipient == CUSTOMER:
            value = payload.get(CUSTOMER_FIELDS[rule.channel])
            found += [str(value).strip()] if value else []
        elif recipient.startswith(ROLE_PREFIX):
            role = recipient.removeprefix(ROLE_PREFIX)
            found += await member_emails(session, tenant_id, role)
        else:
            found.append(recipient)
    normalised = (r.lower() if rule.channel == "email" else r for r in found)
    return list(dict.fromkeys(r for r in normalised if r))


async def _record(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    event: str,
    key: str,
    channel: str,
    recipient: str,
    message: Message,
) -> uuid.UUID | None:
    """Insert the delivery unless this occurrence already reached this recipient."""
    inserted = await session.scalar(
        insert(NotificationDelivery)
        .values(
            tenant_id=tenant_id,
            event=event,
            event_key=key,
            channel=channel,
            recipient=recipient,
            locale=message.locale,
            subject=message.subject,
            body=message.body if channel == "email" else message.short,
            status="queued",
            attempts=0,
        )
        .on_conflict_do_nothing(constraint="uq_notification_delivery_once")
        .returning(NotificationDelivery.id)
    )
    return inserted


async def dispatch_event(
    session: AsyncSession, tenant_id: uuid.UUID, event: str, payload: dict[str, Any]
) -> list[uuid.UUID]:
    """Create and enqueue the deliveries `event` calls for; returns the new delivery ids."""
    key = event_key(event, payload)
    tenant = await tenant_facts(session, tenant_id)
    if tenant is None or tenant.status == "deleted":
        return []
    preferences = await load_preferences(session, tenant)
    message = render_message(event, preferences.locale, tenant=tenant.name, payload=payload)
    created: list[uuid.UUID] = []
    for rule in (r for r in preferences.rules if r.event == event and r.enabled):
        for recipient in await recipients_for(session, tenant_id, rule, payload):
            delivery_id = await _record(
                session,
                tenant_id=tenant_id,
                event=event,
                key=key,
                channel=rule.channel,
                recipient=recipient,
                message=message,
            )
            if delivery_id is None:
                continue
            created.append(delivery_id)
            if rule.channel == "email":
                mail_id = await queue_mail(
                    session,
                    to=recipient,
                    subject=message.subject,
                    text=message.body,
                    category=f"notification:{event}",
                    tenant_id=tenant_id,
                )
                await session.execute(
                    update(NotificationDelivery)
                    .where(NotificationDelivery.id == delivery_id)
                    .values(provider_ref=str(mail_id))
                )
            else:
                await defer(
                    session,
                    "notifications.deliver",
                    tenant_id=str(tenant_id),
                    delivery_id=str(delivery_id),
                )
    log.info("notifications_dispatched", notification_event=event, deliveries=len(created))
    return created
