"""`{T}/notifications/preferences` and `{T}/notifications/deliveries`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import require
from mercato.modules.notifications import deliveries, preferences
from mercato.modules.notifications.schemas import (
    Channel,
    DeliveryRead,
    PreferencesRead,
    PreferencesUpdate,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/notifications", tags=["notifications"])


@router.get("/preferences", response_model=PreferencesRead)
async def get_preferences(
    principal: Annotated[TenantPrincipal, require(Permission.NOTIFICATIONS_READ)],
    session: DbSession,
) -> PreferencesRead:
    return await preferences.get_preferences(session, principal)


@router.put("/preferences", response_model=PreferencesRead)
async def replace_preferences(
    body: PreferencesUpdate,
    principal: Annotated[TenantPrincipal, require(Permission.NOTIFICATIONS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> PreferencesRead:
    """Replace every rule; an empty list turns notifications off."""
    return await preferences.replace_preferences(session, principal, body, meta)


@router.get("/deliveries", response_model=Page[DeliveryRead])
async def list_deliveries(
    principal: Annotated[TenantPrincipal, require(Permission.NOTIFICATIONS_READ)],
    session: DbSession,
    event: str | None = None,
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[DeliveryRead]:
    views, next_cursor = await deliveries.list_deliveries(
        session, principal, event=event, channel=channel, limit=limit, cursor=cursor
    )
    return Page[DeliveryRead](
        data=[
            DeliveryRead(
                id=v.delivery.id,
                event=v.delivery.event,
                event_key=v.delivery.event_key,
                channel=v.delivery.channel,
                recipient=v.delivery.recipient,
                locale=v.delivery.locale,
                subject=v.delivery.subject,
                status=v.status,
                attempts=v.attempts,
                last_error=v.last_error,
                created_at=v.delivery.created_at,
                sent_at=v.sent_at,
            )
            for v in views
        ],
        next_cursor=next_cursor,
    )
