"""Deliver webhooks: fan every domain event out to interested endpoints, then POST each.

A failed attempt is recorded on the delivery and retried after `base * 2**attempt`
seconds (capped), up to `MAX_ATTEMPTS`; consecutive failures disable the endpoint.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import egress
from mercato.kernel.db import get_database
from mercato.kernel.events import interest_changed, subscribe_all
from mercato.kernel.jobs import defer, task
from mercato.kernel.logging import get_logger
from mercato.kernel.signatures import sign
from mercato.modules.webhooks.models import WebhookDelivery, WebhookEndpoint
from mercato.modules.webhooks.service import (
    DISABLE_AFTER_FAILURES,
    endpoint_secret,
    queue_deliveries,
)
from mercato.settings import get_settings

MAX_ATTEMPTS = 8
MAX_BACKOFF_S = 6 * 3600
TIMEOUT_S = 10.0

log = get_logger("mercato.webhooks")


async def _has_active_endpoints(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(WebhookEndpoint.id).where(WebhookEndpoint.status == "active").limit(1)
    )
    return found is not None


@subscribe_all(interested=_has_active_endpoints)
async def fan_out(tenant_id: uuid.UUID, event: str, payload: dict[str, Any]) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await queue_deliveries(session, tenant_id, event, payload)


def backoff_seconds(attempt: int) -> float:
    return float(min(MAX_BACKOFF_S, get_settings().webhook_retry_base_s * 2 ** (attempt - 1)))


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    """POST through egress; returns the status code and, on failure, a generic outcome.

    The answer's body is never read: only its status counts, and nothing the endpoint
    says is stored or shown. Redirects are not followed (a 3xx is a failed delivery).
    """
    try:
        async with (
            egress.http_client(timeout_s=TIMEOUT_S) as http,
            http.stream("POST", url, content=body, headers=headers) as response,
        ):
            status = response.status_code
    except httpx.HTTPError as exc:
        log.info("webhook_post_failed", error=repr(exc))
        return None, egress.public_message(exc)
    if 200 <= status < 300:
        return status, None
    return status, f"the endpoint answered HTTP {status}"


@task("webhooks.deliver", queue="webhooks", timeout_s=60)
async def deliver_webhook(*, tenant_id: str, delivery_id: str) -> None:
    tenant = uuid.UUID(tenant_id)
    async with get_database().tenant_session(tenant) as session:
        delivery = await session.scalar(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.tenant_id == tenant, WebhookDelivery.id == uuid.UUID(delivery_id)
            )
            .with_for_update(skip_locked=True)
        )
        if delivery is None or delivery.status != "pending":
            return  # done already, or another worker holds it
        endpoint = await session.get(WebhookEndpoint, (tenant, delivery.endpoint_id))
        if endpoint is None or endpoint.status != "active":
            delivery.status = "failed"
            delivery.last_error = "endpoint disabled or deleted"
            return
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Mercato-Webhooks/1",
            "Mercato-Signature": sign(endpoint_secret(endpoint), body),
            "Mercato-Event": delivery.event_type,
            "Mercato-Delivery": str(delivery.id),
        }
        status_code, error = await _post(endpoint.url, body, headers)
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        now = datetime.now(UTC)
        if error is None:
            delivery.status = "succeeded"
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            endpoint.consecutive_failures = 0
            return
        endpoint.consecutive_failures += 1
        if endpoint.consecutive_failures >= DISABLE_AFTER_FAILURES:
            endpoint.status = "disabled"
            endpoint.disabled_reason = f"{endpoint.consecutive_failures} failed deliveries in a row"
            await interest_changed(session, tenant)
        if delivery.attempts >= MAX_ATTEMPTS or endpoint.status != "active":
            delivery.status = "failed"
            delivery.next_attempt_at = None
            return
        wait = backoff_seconds(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        await defer(
            session, "webhooks.deliver", delay_s=wait, tenant_id=tenant_id, delivery_id=delivery_id
        )
