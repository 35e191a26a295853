"""Order events reach integrators' webhook endpoints, retried until they succeed."""

from __future__ import annotations

import json

import pytest

from mercato.kernel.signatures import verify
from mercato.modules.webhooks import jobs as webhook_jobs
from mercato.settings import get_settings
from tests.fakes.server import serve
from tests.jobs import run_queued_jobs
from tests.modules.orders.shop import cart_with, checkout, open_shop
from tests.modules.webhooks.test_webhooks import Receiver


@pytest.fixture(autouse=True)
def instant_retries(monkeypatch):
    settings = get_settings().model_copy(update={"webhook_retry_base_s": 0.0})
    monkeypatch.setattr(webhook_jobs, "get_settings", lambda: settings)


async def _run_jobs() -> None:
    await run_queued_jobs("default", "webhooks")


async def test_order_events_are_delivered_with_retries(client) -> None:
    receiver = Receiver(fail_first=2)
    async with serve(receiver.app()) as url:
        shop = await open_shop(client, products={"w": "6.00"}, stock={("w", "S"): 2})
        created = await client.post(
            shop.url("/webhooks"),
            json={"url": f"{url}/hook", "event_types": ["order.created", "order.paid"]},
            headers=shop.owner.headers,
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()
        order = (await checkout(client, shop, await cart_with(client, shop, {"w": 2}))).json()[
            "order"
        ]
        moved = await client.post(
            shop.url(f"/orders/{order['id']}/transitions"),
            json={"to": "paid"},
            headers=shop.owner.headers,
        )
        assert moved.status_code == 200
        await _run_jobs()
    assert receiver.calls == 4  # two failures, then both events
    kinds = []
    for headers, body in receiver.received:
        assert verify(endpoint["secret"], headers["mercato-signature"], body)
        envelope = json.loads(body)
        assert envelope["data"]["order_id"] == order["id"]
        kinds.append(envelope["type"])
    assert sorted(kinds) == ["order.created", "order.paid"]
    log = await client.get(
        shop.url(f"/webhooks/{endpoint['id']}/deliveries"), headers=shop.owner.headers
    )
    assert sorted(d["attempts"] for d in log.json()["data"]) in ([1, 3], [2, 2])
    assert all(d["status"] == "succeeded" for d in log.json()["data"])
