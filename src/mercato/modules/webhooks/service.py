"""Webhook endpoints: register, update, rotate secrets, list deliveries; fan events out.

Endpoints receive `POST` requests with a JSON body `{"id", "type", "created_at", "tenant_id",
"data"}` and a `Mercato-Signature: t=…,v1=…` header (HMAC-SHA256 of `"{t}.{body}"` with
the endpoint's secret, see `mercato.kernel.signatures`). Deliveries are retried with
exponential backoff; an endpoint failing `DISABLE_AFTER_FAILURES` attempts in a row is
disabled until someone re-enables it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import egress
from mercato.kernel.crypto import seal, unseal
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.events import interest_changed
from mercato.kernel.jobs import defer
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.webhooks.models import WebhookDelivery, WebhookEndpoint
from mercato.modules.webhooks.schemas import WebhookCreate, WebhookUpdate
from mercato.settings import get_settings

SECRET_PURPOSE = "webhook-secret"  # noqa: S105 - a key-derivation label, not a secret
DISABLE_AFTER_FAILURES = 15
PING_EVENT = "webhook.ping"
EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    return unseal(endpoint.secret_sealed, purpose=SECRET_PURPOSE).decode()


def _check_url(url: str) -> None:
    """Early answers for what is wrong in the URL itself; every delivery is checked again
    by egress, where a name that resolves to an internal address is refused."""
    parsed = urlparse(url)
    problems = []
    if get_settings().is_production and parsed.scheme != "https":
        problems.append("must use https")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if egress.literal_refusal(parsed.hostname or "", port) is not None:
        problems.append("must not point at a private, loopback or reserved address")
    if problems:
        message = "The URL " + " and ".join(problems)
        raise ValidationFailed(message, errors=[field_error("url", message)])


def _check_event_types(types: list[str]) -> None:
    bad = [t for t in types if t != "*" and not EVENT_TYPE.match(t)]
    if bad:
        message = f"Unknown event type format: {', '.join(bad)} (use e.g. order.created)"
        raise ValidationFailed(message, errors=[field_error("event_types", message)])


async def create_endpoint(
    session: AsyncSession, principal: TenantPrincipal, body: WebhookCreate, meta: RequestMeta
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint (step-up: it receives the tenant's events); its signing secret
    is returned this once."""
    principal.require(Permission.WEBHOOKS_WRITE)
    principal.require_recent_auth()
    _check_url(str(body.url))
    _check_event_types(body.event_types)
    secret = _new_secret()
    endpoint = WebhookEndpoint(
        tenant_id=principal.tenant_id,
        url=str(body.url),
        description=body.description,
        secret_sealed=seal(secret.encode(), purpose=SECRET_PURPOSE),
        event_types=sorted(set(body.event_types)),
    )
    session.add(endpoint)
    await session.flush()
    await interest_changed(session, principal.tenant_id)  # events now have somewhere to go
    await record_audit(
        session,
        actor=principal,
        action="webhook.created",
        target=f"webhook:{endpoint.id}",
        changes={
            "url": {"from": None, "to": endpoint.url},
            "event_types": {"from": None, "to": endpoint.event_types},
        },
        meta=meta,
    )
    return endpoint, secret


async def get_endpoint(
    session: AsyncSession, principal: TenantPrincipal, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, (principal.tenant_id, endpoint_id))
    if endpoint is None:
        raise NotFound("No such webhook endpoint")
    return endpoint


async def list_endpoints(session: AsyncSession, principal: Principal) -> list[WebhookEndpoint]:
    principal.require(Permission.WEBHOOKS_READ)
    rows = await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at))
    return list(rows.all())


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "status": endpoint.status,
    }


async def update_endpoint(
    session: AsyncSession,
    principal: TenantPrincipal,
    endpoint_id: uuid.UUID,
    body: WebhookUpdate,
    meta: RequestMeta,
) -> WebhookEndpoint:
    principal.require(Permission.WEBHOOKS_WRITE)
    endpoint = await get_endpoint(session, principal, endpoint_id)
    before = _snapshot(endpoint)
    if body.url is not None:
        _check_url(str(body.url))
        endpoint.url = str(body.url)
    if body.description is not None:
        endpoint.description = body.description
    if body.event_types is not None:
        _check_event_types(body.event_types)
        endpoint.event_types = sorted(set(body.event_types))
    if body.status is not None and body.status != endpoint.status:
        endpoint.status = body.status
        endpoint.disabled_reason = None if body.status == "active" else "disabled by staff"
        endpoint.consecutive_failures = 0
        await interest_changed(session, principal.tenant_id)
    await session.flush()
    await record_audit(
        session,
        actor=principal,
        action="webhook.updated",
        target=f"webhook:{endpoint.id}",
        changes=field_changes(before, _snapshot(endpoint)),
        meta=meta,
    )
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: TenantPrincipal, endpoint_id: uuid.UUID, meta: RequestMeta
) -> None:
    principal.require(Permission.WEBHOOKS_WRITE)
    endpoint = await get_endpoint(session, principal, endpoint_id)
    await session.delete(endpoint)
    await session.flush()
    await interest_changed(session, principal.tenant_id)
    await record_audit(
        session,
        actor=principal,
        action="webhook.deleted",
        target=f"webhook:{endpoint_id}",
        changes={"url": {"from": endpoint.url, "to": None}},
        meta=meta,
    )


async def rotate_secret(
    session: AsyncSession, principal: TenantPrincipal, endpoint_id: uuid.UUID, meta: RequestMeta
) -> tuple[WebhookEndpoint, str]:
    principal.require(Permission.WEBHOOKS_WRITE)
    endpoint = await get_endpoint(session, principal, endpoint_id)
    secret = _new_secret()
    endpoint.secret_sealed = seal(secret.encode(), purpose=SECRET_PURPOSE)
    await session.flush()
    await record_audit(
        session,
        actor=principal,
        action="webhook.secret_rotated",
        target=f"webhook:{endpoint.id}",
        meta=meta,
    )
    return endpoint, secret


def _envelope(tenant_id: uuid.UUID, event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event,
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "tenant_id": str(tenant_id),
        "data": data,
    }


def _wants(endpoint: WebhookEndpoint, event: str) -> bool:
    types = endpoint.event_types or []
    return not types or "*" in types or event in types


async def queue_deliveries(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    event: str,
    data: dict[str, Any],
    *,
    only: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Create one delivery per active endpoint that wants `event`, each with its own job."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.status == "active")
    if only is not None:
        query = query.where(WebhookEndpoint.id == only)
    envelope = _envelope(tenant_id, event, data)
    created = []
    for endpoint in (await session.scalars(query)).all():
        if only is None and not _wants(endpoint, event):
            continue
        delivery = WebhookDelivery(
            tenant_id=tenant_id, endpoint_id=endpoint.id, event_type=event, payload=envelope
        )
        session.add(delivery)
        await session.flush()
        await defer(
            session, "webhooks.deliver", tenant_id=str(tenant_id), delivery_id=str(delivery.id)
        )
        created.append(delivery.id)
    return created


async def send_test(
    session: AsyncSession, principal: TenantPrincipal, endpoint_id: uuid.UUID
) -> uuid.UUID:
    """Queue a `webhook.ping` delivery to one endpoint (whatever its event filter)."""
    principal.require(Permission.WEBHOOKS_WRITE)
    endpoint = await get_endpoint(session, principal, endpoint_id)
    queued = await queue_deliveries(
        session,
        principal.tenant_id,
        PING_EVENT,
        {"message": "Hello from Mercato"},
        only=endpoint.id,
    )
    if not queued:
        raise ValidationFailed("The endpoint is disabled; enable it first")
    return queued[0]


async def list_deliveries(
    session: AsyncSession,
    principal: TenantPrincipal,
    endpoint_id: uuid.UUID,
    *,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[WebhookDelivery], str | None]:
    principal.require(Permission.WEBHOOKS_READ)
    await get_endpoint(session, principal, endpoint_id)
    size = clamp_limit(limit)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())  # UUIDv7: newest first
    )
    position = read_cursor(cursor, lambda c: uuid.UUID(c["id"]))
    if position is not None:
        query = query.where(WebhookDelivery.id < position)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = encode_cursor({"id": str(rows[size - 1].id)}) if len(rows) > size else None
    return rows[:size], next_cursor
