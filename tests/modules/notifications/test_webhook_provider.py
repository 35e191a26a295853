"""The webhook provider against a local gateway that verifies the HMAC-SHA256 signature."""

from __future__ import annotations

import pytest

from mercato.modules.notifications.providers import (
    OutboundMessage,
    ProviderError,
    ProviderNotConfigured,
    WebhookProvider,
    provider_for,
)
from mercato.settings import get_settings
from tests.fakes.server import free_port, serve
from tests.modules.notifications.fake_gateway import FakeGateway

SECRET = b"gateway-shared-secret"
MESSAGE = OutboundMessage(
    delivery_id="d-1",
    tenant_id="t-1",
    event="order.fulfilled",
    channel="sms",
    to="+46700000001",
    title="Order 1001 has shipped",
    text="Nordic Home: order 1001 has shipped",
)


async def test_a_signed_message_is_accepted_and_its_reference_kept() -> None:
    gateway = FakeGateway(SECRET)
    async with serve(gateway.app()) as url:
        reference = await WebhookProvider(f"{url}/messages", SECRET, timeout_s=5).send(MESSAGE)
    assert reference == "gw-1"
    assert gateway.rejected == []
    assert gateway.received[0]["to"] == "+46700000001"
    assert gateway.received[0]["text"] == "Nordic Home: order 1001 has shipped"
    assert gateway.received[0]["event"] == "order.fulfilled"
    assert gateway.idempotency_keys == ["d-1"]


async def test_a_message_signed_with_another_secret_is_refused() -> None:
    gateway = FakeGateway(SECRET)
    async with serve(gateway.app()) as url:
        provider = WebhookProvider(f"{url}/messages", b"not-the-secret", timeout_s=5)
        with pytest.raises(ProviderError, match="answered 401"):
            await provider.send(MESSAGE)
    assert gateway.received == []
    assert len(gateway.rejected) == 1


async def test_an_unreachable_gateway_is_a_provider_error() -> None:
    provider = WebhookProvider(f"http://127.0.0.1:{free_port()}/x", SECRET, timeout_s=2)
    with pytest.raises(ProviderError, match="unreachable"):
        await provider.send(MESSAGE)


def test_a_webhook_url_without_a_secret_is_refused() -> None:
    settings = get_settings().model_copy(update={"sms_webhook_url": "https://gw.example/sms"})
    with pytest.raises(ProviderNotConfigured, match="MERCATO_SMS_WEBHOOK_SECRET"):
        provider_for("sms", settings)
