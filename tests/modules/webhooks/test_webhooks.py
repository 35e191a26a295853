"""Outbound webhooks: signed deliveries of domain events, retries, auto-disable."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mercato.kernel import listen
from mercato.kernel.db import get_database
from mercato.kernel.events import INTEREST_CHANNEL, emit, handler_name, interest_memory
from mercato.kernel.signatures import verify
from mercato.modules.webhooks import jobs as webhook_jobs
from mercato.modules.webhooks import service as webhook_service
from mercato.settings import get_settings
from tests.factories import create_tenant, signup_and_login, stale_headers
from tests.fakes.server import serve
from tests.jobs import run_queued_jobs


@dataclass
class Receiver:
    """An integrator's endpoint: fails the first `fail_first` calls, records the rest."""

    fail_first: int = 0
    calls: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def hook(self, request: Request) -> JSONResponse:
        self.calls += 1
        if self.calls <= self.fail_first:
            return JSONResponse({"error": "try later"}, status_code=503)
        self.received.append((dict(request.headers), await request.body()))
        return JSONResponse({"ok": True})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])


@pytest.fixture(autouse=True)
def instant_retries(monkeypatch):
    settings = get_settings().model_copy(update={"webhook_retry_base_s": 0.0})
    monkeypatch.setattr(webhook_jobs, "get_settings", lambda: settings)


async def _setup(client, receiver_url: str, event_types: list[str]) -> tuple[str, dict, object]:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.post(
        f"/api/v1/tenants/{tenant}/webhooks",
        json={"url": f"{receiver_url}/hook", "event_types": event_types},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return tenant, response.json(), owner


async def _emit(tenant: str, event: str, payload: dict) -> int:
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        return await emit(session, uuid.UUID(tenant), event, payload)


async def _fan_outs_queued(tenant: str) -> int:
    """Webhook fan-out jobs waiting for this tenant (other modules subscribe to events too)."""
    async with get_database().session() as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                "AND args->>'handler' = :handler AND args->>'tenant_id' = :tenant"
            ),
            {"handler": handler_name(webhook_jobs.fan_out), "tenant": tenant},
        )
    return int(count or 0)


async def _run_jobs() -> None:
    await run_queued_jobs("default", "webhooks")


async def test_an_event_is_delivered_signed_to_a_subscribed_endpoint(client) -> None:
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        tenant, endpoint, owner = await _setup(client, url, ["order.created"])
        assert endpoint["secret"].startswith("whsec_")
        assert await _emit(tenant, "order.created", {"order_id": "o-1", "total": "19.99"}) >= 1
        await _emit(tenant, "product.updated", {"product_id": "p-1"})  # not subscribed
        await _run_jobs()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert verify(endpoint["secret"], headers["mercato-signature"], body)
    assert not verify("whsec_wrong", headers["mercato-signature"], body)
    envelope = json.loads(body)
    assert envelope["type"] == "order.created"
    assert envelope["tenant_id"] == tenant
    assert envelope["data"] == {"order_id": "o-1", "total": "19.99"}
    assert headers["mercato-event"] == "order.created"
    log = await client.get(
        f"/api/v1/tenants/{tenant}/webhooks/{endpoint['id']}/deliveries", headers=owner.headers
    )
    assert [(d["status"], d["attempts"]) for d in log.json()["data"]] == [("succeeded", 1)]


async def test_failed_deliveries_are_retried_until_they_succeed(client) -> None:
    receiver = Receiver(fail_first=2)
    async with serve(receiver.app()) as url:
        tenant, endpoint, owner = await _setup(client, url, [])
        await _emit(tenant, "order.paid", {"order_id": "o-2"})
        await _run_jobs()
    assert receiver.calls == 3
    assert len(receiver.received) == 1
    log = (
        await client.get(
            f"/api/v1/tenants/{tenant}/webhooks/{endpoint['id']}/deliveries", headers=owner.headers
        )
    ).json()["data"]
    assert log[0]["status"] == "succeeded"
    assert log[0]["attempts"] == 3
    assert log[0]["last_status_code"] == 200


async def test_an_endpoint_that_keeps_failing_is_disabled(client) -> None:
    receiver = Receiver(fail_first=10_000)
    async with serve(receiver.app()) as url:
        tenant, endpoint, owner = await _setup(client, url, [])
        await _emit(tenant, "order.created", {"order_id": "a"})
        await _emit(tenant, "order.created", {"order_id": "b"})
        await _run_jobs()
    state = (
        await client.get(
            f"/api/v1/tenants/{tenant}/webhooks/{endpoint['id']}", headers=owner.headers
        )
    ).json()
    assert state["status"] == "disabled"
    assert state["consecutive_failures"] == webhook_service.DISABLE_AFTER_FAILURES
    assert receiver.calls == webhook_service.DISABLE_AFTER_FAILURES
    # Events after that are not even queued for it.
    await _emit(tenant, "order.created", {"order_id": "c"})
    assert await _fan_outs_queued(tenant) == 0


async def test_ping_and_secret_rotation(client) -> None:
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        tenant, endpoint, owner = await _setup(client, url, ["order.created"])
        rotated = await client.post(
            f"/api/v1/tenants/{tenant}/webhooks/{endpoint['id']}/rotate-secret",
            headers=owner.headers,
        )
        new_secret = rotated.json()["secret"]
        assert new_secret != endpoint["secret"]
        ping = await client.post(
            f"/api/v1/tenants/{tenant}/webhooks/{endpoint['id']}/test", headers=owner.headers
        )
        assert ping.status_code == 202
        await _run_jobs()
    headers, body = receiver.received[0]
    assert json.loads(body)["type"] == "webhook.ping"
    assert verify(new_secret, headers["mercato-signature"], body)
    assert not verify(endpoint["secret"], headers["mercato-signature"], body)


async def test_tenants_without_endpoints_queue_nothing(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await _emit(tenant, "order.created", {"order_id": "x"})
    assert await _fan_outs_queued(tenant) == 0


async def test_private_targets_are_refused_unless_allowed(client, strict_egress) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.post(
        f"/api/v1/tenants/{tenant}/webhooks",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=owner.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"


async def test_secrets_are_never_listed(client) -> None:
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        tenant, endpoint, owner = await _setup(client, url, [])
    listed = await client.get(f"/api/v1/tenants/{tenant}/webhooks", headers=owner.headers)
    assert endpoint["secret"] not in listed.text
    assert "secret" not in listed.json()["data"][0]


async def test_adding_an_endpoint_needs_step_up(client, owner_dsn) -> None:
    """A stolen or idle session must not be able to siphon the tenant's events."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.post(
        f"/api/v1/tenants/{tenant}/webhooks",
        json={"url": "https://collector.example/hook"},
        headers=await stale_headers(owner),
    )
    assert response.status_code == 401
    assert response.json()["type"].endswith("step-up-required")
    with psycopg.connect(owner_dsn) as conn:
        count = conn.execute(
            "SELECT count(*) FROM webhook_endpoint WHERE tenant_id = %s", (tenant,)
        ).fetchone()
    assert count == (0,)


async def test_a_remembered_no_ends_when_an_endpoint_is_added_or_enabled(client, owner_dsn) -> None:
    """The process remembers that a tenant has no endpoint (no query per event), and
    forgets it at the commit that adds one here, or when another process says so."""
    assert await listen.wait_live()
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    test = handler_name(webhook_jobs._has_active_endpoints)
    await _emit(tenant, "order.created", {"order_id": "x"})
    assert interest_memory.get(test, uuid.UUID(tenant)) is False
    created = await client.post(
        f"/api/v1/tenants/{tenant}/webhooks",
        json={"url": "https://collector.example/hook"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    assert interest_memory.get(test, uuid.UUID(tenant)) is None
    await _emit(tenant, "order.created", {"order_id": "y"})
    assert await _fan_outs_queued(tenant) == 1
    disabled = await client.patch(
        f"/api/v1/tenants/{tenant}/webhooks/{created.json()['id']}",
        json={"status": "disabled"},
        headers=owner.headers,
    )
    assert disabled.status_code == 200, disabled.text
    await _emit(tenant, "order.created", {"order_id": "z"})
    assert await _fan_outs_queued(tenant) == 1
    assert interest_memory.get(test, uuid.UUID(tenant)) is False
    # Another process enables it again: its commit notifies every process.
    with psycopg.connect(owner_dsn) as conn:
        conn.execute(
            "UPDATE webhook_endpoint SET status = 'active' WHERE tenant_id = %s", (tenant,)
        )
        conn.execute("SELECT pg_notify(%s, %s)", (INTEREST_CHANNEL, tenant))
    await listen.barrier()
    await _emit(tenant, "order.created", {"order_id": "w"})
    assert await _fan_outs_queued(tenant) == 2
