"""Domain events become notifications on each channel, once, in the tenant's language."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.kernel.events import emit
from mercato.modules.mail import jobs as mail_jobs
from mercato.modules.notifications import jobs as notification_jobs
from mercato.modules.notifications.dispatch import dispatch_event
from mercato.modules.notifications.event_catalog import InvalidNotificationPayload
from mercato.settings import get_settings
from tests.factories import add_member, create_tenant, signup_and_login
from tests.fakes.server import serve
from tests.fakes.smtp import smtp_server
from tests.jobs import run_queued_jobs
from tests.modules.notifications.fake_gateway import FakeGateway

QUEUES = ["default", "notifications", "mail"]


async def _run_jobs() -> None:
    await run_queued_jobs(*QUEUES)


async def _emit(tenant: str, event: str, payload: dict) -> None:
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        await emit(session, uuid.UUID(tenant), event, payload)


async def _save_rules(client, owner, tenant: str, rules: list[dict], locale=None) -> None:
    response = await client.put(
        f"/api/v1/tenants/{tenant}/notifications/preferences",
        json={"rules": rules, "locale": locale},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text


async def _deliveries(client, owner, tenant: str) -> list[dict]:
    response = await client.get(
        f"/api/v1/tenants/{tenant}/notifications/deliveries", headers=owner.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _order(number: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "summary": f"Order {number} was placed",
        "number": number,
        "total": "129.90",
        "currency": "EUR",
        "customer_email": "Shopper@Example.com",
        "customer_phone": "+46700000002",
    }


async def test_an_order_event_reaches_every_channel_once(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    admin = await add_member(client, owner, tenant, "admin")
    await add_member(client, owner, tenant, "viewer")  # below role:admin: not notified
    await _save_rules(
        client,
        owner,
        tenant,
        [
            {
                "event": "order.created",
                "channel": "email",
                "recipients": ["role:admin", "customer", "orders@shop.example"],
            },
            {"event": "order.created", "channel": "sms", "recipients": ["customer"]},
            {"event": "order.created", "channel": "push", "recipients": ["topic:orders"]},
            {"event": "order.paid", "channel": "sms", "recipients": ["customer"], "enabled": False},
        ],
    )
    order = _order("1001")
    await _emit(tenant, "order.created", order)
    await _emit(tenant, "order.created", order)  # a duplicate delivery of the same event
    await _emit(tenant, "order.paid", {**order, "summary": "Order 1001 was paid"})
    await _run_jobs()

    deliveries = await _deliveries(client, owner, tenant)
    assert sorted((d["channel"], d["recipient"]) for d in deliveries) == sorted(
        [
            ("email", owner.email),
            ("email", admin.email),
            ("email", "shopper@example.com"),
            ("email", "orders@shop.example"),
            ("sms", "+46700000002"),
            ("push", "topic:orders"),
        ]
    )
    assert {d["status"] for d in deliveries} == {"sent"}
    assert {d["event_key"] for d in deliveries} == {order["id"]}
    assert {d["subject"] for d in deliveries} == {"New order 1001"}

    outbox = Path(get_settings().data_dir)
    sms = [json.loads(line) for line in (outbox / "notifications" / "sms.jsonl").open()]
    mine = [m for m in sms if m["tenant_id"] == tenant]
    assert len(mine) == 1
    assert mine[0]["text"].endswith("order 1001 received (129.90 EUR)")
    mail = list((outbox / "mail").glob("*.eml"))
    assert any(
        "New order 1001" in path.read_text() and admin.email in path.read_text() for path in mail
    )


async def test_messages_use_the_tenants_language(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await _save_rules(
        client,
        owner,
        tenant,
        [{"event": "order.fulfilled", "channel": "email", "recipients": ["a@shop.example"]}],
        locale="de",
    )
    await _emit(
        tenant,
        "order.fulfilled",
        {"id": "o-7", "summary": "Bestellung 7 ist unterwegs", "number": "7"},
    )
    await _run_jobs()
    deliveries = await _deliveries(client, owner, tenant)
    assert [(d["locale"], d["subject"]) for d in deliveries] == [
        ("de", "Bestellung 7 wurde versandt")
    ]


async def test_low_stock_reaches_admins_by_default_once_per_occurrence(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    payload = {"id": "sku-1", "summary": "Oslo sofa is low", "available": 2, "threshold": 5}
    await _emit(tenant, "inventory.low_stock", {**payload, "occurrence_id": "sku-1:1"})
    await _emit(tenant, "inventory.low_stock", {**payload, "occurrence_id": "sku-1:1"})
    await _emit(tenant, "inventory.low_stock", {**payload, "occurrence_id": "sku-1:2"})
    await _run_jobs()
    deliveries = await _deliveries(client, owner, tenant)
    assert sorted(d["event_key"] for d in deliveries) == ["sku-1:1", "sku-1:2"]
    assert {d["recipient"] for d in deliveries} == {owner.email}


async def test_an_event_without_id_or_summary_is_rejected_for_its_emitter(app) -> None:
    tenant_id = uuid.uuid4()
    async with get_database().tenant_session(tenant_id) as session:
        with pytest.raises(InvalidNotificationPayload, match="summary"):
            await dispatch_event(session, tenant_id, "order.paid", {"id": "o-1"})


@pytest.fixture
def sms_gateway(monkeypatch):
    def configure(url: str, secret: str) -> None:
        settings = get_settings().model_copy(
            update={"sms_webhook_url": url, "sms_webhook_secret": secret}
        )
        monkeypatch.setattr(notification_jobs, "get_settings", lambda: settings)

    return configure


async def test_sms_goes_through_the_signed_webhook_and_failures_are_retried(
    client, sms_gateway
) -> None:
    from pydantic import SecretStr

    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await _save_rules(
        client,
        owner,
        tenant,
        [{"event": "order.fulfilled", "channel": "sms", "recipients": ["+46700000003"]}],
    )
    gateway = FakeGateway(b"shared")
    async with serve(gateway.app()) as url:
        sms_gateway(f"{url}/messages", SecretStr("wrong"))
        await _emit(tenant, "order.fulfilled", {"id": "o-9", "summary": "Order 9 shipped"})
        await _run_jobs()
        [failed] = await _deliveries(client, owner, tenant)
        assert failed["status"] == "queued"
        assert failed["attempts"] == 1
        assert "answered 401" in failed["last_error"]
        assert len(gateway.rejected) == 1

        # The retry is scheduled with backoff; bring it forward and fix the secret.
        async with get_database().session() as session:
            await session.execute(
                text(
                    "UPDATE procrastinate_jobs SET scheduled_at = now() "
                    "WHERE task_name = 'notifications.deliver' AND args->>'delivery_id' = :id"
                ),
                {"id": failed["id"]},
            )
        sms_gateway(f"{url}/messages", SecretStr("shared"))
        await _run_jobs()
    [sent] = await _deliveries(client, owner, tenant)
    assert sent["status"] == "sent"
    assert sent["attempts"] == 2
    assert sent["last_error"] is None
    assert gateway.received[0]["to"] == "+46700000003"
    assert gateway.idempotency_keys == [failed["id"]]


async def test_a_tenants_own_smtp_server_carries_its_notifications(client, monkeypatch) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    with smtp_server() as (own, own_url), smtp_server() as (deployment, deployment_url):
        settings = get_settings().model_copy(update={"smtp_url": SecretStr(deployment_url)})
        monkeypatch.setattr(mail_jobs, "get_settings", lambda: settings)
        linked = await client.put(
            f"/api/v1/tenants/{tenant}/integrations/smtp",
            json={
                "host": "127.0.0.1",
                "port": int(own_url.rsplit(":", 1)[1]),
                "security": "none",
                "from_address": "alerts@own-server.example",
            },
            headers=owner.headers,
        )
        assert linked.status_code in (200, 201), linked.text
        payload = {"id": "sku-9", "summary": "Bergen lamp is low", "available": 1, "threshold": 5}
        await _emit(tenant, "inventory.low_stock", {**payload, "occurrence_id": "sku-9:1"})
        await _run_jobs()
    assert [str(m["To"]) for m in own.messages] == [owner.email]
    assert str(own.messages[0]["From"]) == "alerts@own-server.example"
    # Account mail (the sign-up's verification) stays on the deployment's server.
    notified = str(own.messages[0]["Subject"])
    assert notified not in [str(m["Subject"]) for m in deployment.messages]
    [delivery] = await _deliveries(client, owner, tenant)
    assert delivery["recipient"] == owner.email
