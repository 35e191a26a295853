"""`{T}/webhooks`: endpoints for integrators, their secrets and delivery logs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import require
from mercato.modules.webhooks import service
from mercato.modules.webhooks.models import WebhookDelivery, WebhookEndpoint
from mercato.modules.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/webhooks", tags=["webhooks"])
Writer = Annotated[TenantPrincipal, require(Permission.WEBHOOKS_WRITE)]
Reader = Annotated[TenantPrincipal, require(Permission.WEBHOOKS_READ)]


def _read(endpoint: WebhookEndpoint) -> WebhookRead:
    return WebhookRead(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types or []),
        status=endpoint.status,
        disabled_reason=endpoint.disabled_reason,
        consecutive_failures=endpoint.consecutive_failures,
        created_at=endpoint.created_at,
    )


def _delivery(row: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead.model_validate(row, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Register an endpoint; the signing secret is shown only here",
)
async def create_webhook(
    body: WebhookCreate, principal: Writer, session: DbSession, meta: Meta
) -> WebhookCreated:
    endpoint, secret = await service.create_endpoint(session, principal, body, meta)
    return WebhookCreated(**_read(endpoint).model_dump(), secret=secret)


@router.get("", response_model=WebhookList)
async def list_webhooks(principal: Reader, session: DbSession) -> WebhookList:
    return WebhookList(data=[_read(e) for e in await service.list_endpoints(session, principal)])


@router.get("/{webhook_id}", response_model=WebhookRead)
async def get_webhook(webhook_id: uuid.UUID, principal: Reader, session: DbSession) -> WebhookRead:
    return _read(await service.get_endpoint(session, principal, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookRead)
async def update_webhook(
    webhook_id: uuid.UUID, body: WebhookUpdate, principal: Writer, session: DbSession, meta: Meta
) -> WebhookRead:
    return _read(await service.update_endpoint(session, principal, webhook_id, body, meta))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: uuid.UUID, principal: Writer, session: DbSession, meta: Meta
) -> Response:
    await service.delete_endpoint(session, principal, webhook_id, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookCreated)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID, principal: Writer, session: DbSession, meta: Meta
) -> WebhookCreated:
    endpoint, secret = await service.rotate_secret(session, principal, webhook_id, meta)
    return WebhookCreated(**_read(endpoint).model_dump(), secret=secret)


@router.post("/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED)
async def test_webhook(
    webhook_id: uuid.UUID, principal: Writer, session: DbSession
) -> dict[str, str]:
    delivery_id = await service.send_test(session, principal, webhook_id)
    return {"delivery_id": str(delivery_id)}


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryRead])
async def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    principal: Reader,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[DeliveryRead]:
    rows, next_cursor = await service.list_deliveries(
        session, principal, webhook_id, limit=limit, cursor=cursor
    )
    return Page[DeliveryRead](data=[_delivery(r) for r in rows], next_cursor=next_cursor)
