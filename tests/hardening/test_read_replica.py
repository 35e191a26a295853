"""`MERCATO_DATABASE_READ_URL`: analytics read a streaming replica; orders never lag.

A real primary and a `pg_basebackup -R` standby (tests.hardening.replication), a
migrated schema, and `mercato serve` with the replica as its read URL:
- analytics answer from the replica: with replay paused, an order placed afterwards is
  missing from the analytics while the replica's own pg_stat_activity shows the
  server's read connections;
- `mercato export tenant` reads the replica too: its archive lacks that order;
- the merchant's own answer never lags: the order just placed is in GET /orders/{id}
  and in the orders list at once (they read the primary);
- a replica too far behind is skipped: once the paused replica's lag passes
  `MERCATO_DATABASE_READ_MAX_LAG_S`, analytics come from the primary and see the order.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.factories import create_api_key, create_tenant, signup_and_login
from tests.hardening.live import Deployment, Server
from tests.hardening.replication import ReplicatedPostgres
from tests.modules.orders.shop import Shop, cart_with, checkout

pytestmark = pytest.mark.slow

MAX_LAG_S = 8  # room for a `mercato export tenant` run while replay is paused


@pytest.fixture(scope="module")
def replicated() -> Iterator[ReplicatedPostgres]:
    pair = ReplicatedPostgres.start()
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="module")
def deployment(
    replicated: ReplicatedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    deployment = Deployment.on_suite_database(
        tmp_path_factory.mktemp("replica-deployment"),
        database_url=replicated.primary.url(),
        database_read_url=replicated.replica.url(),
        database_read_max_lag_s=str(MAX_LAG_S),
        analytics_cache_ttl_s="0",  # every answer computed, so it shows where it was read
    )
    try:
        deployment.run("migrate")
        yield deployment
    finally:
        deployment.close()


@pytest.fixture(scope="module")
def server(deployment: Deployment) -> Server:
    return deployment.serve("replica-api")


def _exported_orders(deployment: Deployment, tenant: str) -> int:
    archive = deployment.data_dir / f"{tenant}.jsonl"
    deployment.run("export", "tenant", tenant, "--out", str(archive))
    header = json.loads(archive.read_text().splitlines()[0])
    return int(header["tables"]["sales_order"])


async def _open_shop(http: httpx.AsyncClient) -> Shop:
    owner = await signup_and_login(http)
    tenant = await create_tenant(http, owner)
    shop = Shop(tenant, owner, (await create_api_key(http, owner, tenant))["key"])
    steps = [
        ("/products/p1", {"name": "Lamp", "price": "10.00", "currency": "EUR"}, 201),
        ("/locations/L1", {"name": "Store L1"}, 201),
        ("/inventory/p1/L1", {"on_hand": 10}, 200),
    ]
    for path, body, expected in steps:
        response = await http.put(shop.url(path), json=body, headers=owner.headers)
        assert response.status_code == expected, response.text
    return shop


async def _order(http: httpx.AsyncClient, shop: Shop) -> str:
    """Place an order and send its purchase event, as a storefront does."""
    placed = await checkout(http, shop, await cart_with(http, shop, {"p1": 1}))
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["order"]["id"])
    event = {
        "type": "purchase",
        "user_id": "shopper-1",
        "timestamp": datetime.now(UTC).isoformat(),
        "event_id": uuid.uuid4().hex,
        "revenue": "10.00",
        "currency": "EUR",
        "properties": {"order_id": order_id},
    }
    sent = await http.post(shop.url("/events"), json=event, headers=shop.headers)
    assert sent.status_code == 202, sent.text
    return order_id


async def _purchases(http: httpx.AsyncClient, shop: Shop) -> int:
    response = await http.get(shop.url("/analytics/overview"), headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["purchases"])


async def _order_ids(http: httpx.AsyncClient, shop: Shop) -> set[str]:
    response = await http.get(shop.url("/orders"), headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    return {str(order["id"]) for order in response.json()["data"]}


async def test_analytics_read_the_replica_and_orders_never_lag(
    replicated: ReplicatedPostgres, deployment: Deployment, server: Server
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        shop = await _open_shop(http)
        first = await _order(http, shop)
        replicated.wait_caught_up()
        assert await _purchases(http, shop) == 1

        # A commit just before the pause, so the replica's lag counts from now.
        replicated.primary.query("SELECT txid_current()")
        replicated.wait_caught_up()
        replicated.replica.query("SELECT pg_wal_replay_pause()")
        paused_at = time.monotonic()

        second = await _order(http, shop)
        got = await http.get(shop.url(f"/orders/{second}"), headers=shop.owner.headers)
        assert got.status_code == 200, got.text
        assert await _order_ids(http, shop) == {first, second}
        assert await _purchases(http, shop) == 1, "analytics should come from the paused replica"
        assert _exported_orders(deployment, shop.tenant) == 1, "so should the tenant export"
        assert time.monotonic() - paused_at < MAX_LAG_S, "too slow to show the replica's lag"
        readers = replicated.replica.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mercato-read'"
        )
        assert isinstance(readers, int)
        assert readers >= 1

        # Past the allowed lag (plus one measuring interval) analytics fall back.
        deadline = time.monotonic() + MAX_LAG_S + 15
        while await _purchases(http, shop) != 2:
            assert time.monotonic() < deadline, "a replica far behind was still read"
            await asyncio.sleep(0.5)
        assert await _order_ids(http, shop) == {first, second}

        replicated.replica.query("SELECT pg_wal_replay_resume()")
        replicated.wait_caught_up()
        assert await _purchases(http, shop) == 2
        assert _exported_orders(deployment, shop.tenant) == 2
        assert server.popen.poll() is None
        assert "Traceback" not in server.output()
