"""Fresh recommendations: live co-purchase and trending counts kept from ingestion, a new
tenant's first fit asked for by its first events, and answers before any model."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mercato.kernel.redis import get_redis
from mercato.modules.recommendations import fit_tenant
from mercato.modules.recommendations.cache import learnt_key, model_version_key
from mercato.modules.recommendations.file_source import FileSource
from mercato.modules.recommendations.live import (
    DAY_S,
    REBASE_AFTER_S,
    first_fit_guard_key,
    read_live,
    record_events,
)
from mercato.settings import get_settings
from tests.factories import create_tenant, signup_and_login
from tests.jobs import running_worker

from .catalog_api import stock_the_catalog
from .shop import furniture, product, returning_shoppers

CLUSTERS = [[f"c{cluster}-{item}" for item in range(3)] for cluster in range(4)]
NOISE = [f"noise-{item}" for item in range(18)]
PAIRS = [(0, 1), (0, 2), (1, 2)]


@pytest.fixture
def first_fit_delay() -> Iterator[float]:
    """The first fit 15 s after the first events (30 s by default), so the test can see
    lists served before any model and then the model the worker fitted."""
    os.environ["MERCATO_RECO_FIRST_FIT_DELAY_S"] = "15"
    get_settings.cache_clear()
    try:
        yield 15.0
    finally:
        del os.environ["MERCATO_RECO_FIRST_FIT_DELAY_S"]
        get_settings.cache_clear()


def planted_catalog() -> list[dict[str, Any]]:
    rows = [
        product(product_id, f"Set {cluster} item {item}", f"Sets > Set {cluster}")
        for cluster, members in enumerate(CLUSTERS)
        for item, product_id in enumerate(members)
    ]
    return rows + [product(product_id, f"Odd {product_id}", "Odds") for product_id in NOISE]


def planted_purchases(orders: int = 400) -> list[dict[str, Any]]:
    """Three purchases per order: two of one set's products and one odd product, over the
    last 40 minutes (1,200 purchases for 400 orders)."""
    now = datetime.now(UTC)
    events = []
    for order in range(orders):
        members = CLUSTERS[order % len(CLUSTERS)]
        first, second = PAIRS[(order // len(CLUSTERS)) % len(PAIRS)]
        basket = [members[first], members[second], NOISE[(order * 7) % len(NOISE)]]
        at = now - timedelta(seconds=6 * (orders - order))
        for position, product_id in enumerate(basket):
            events.append(
                {
                    "type": "purchase",
                    "user_id": f"shopper-{order % 150}",
                    "session_id": f"visit-{order}",
                    "product_id": product_id,
                    "quantity": 1,
                    "revenue": "25.00",
                    "currency": "EUR",
                    "timestamp": (at + timedelta(seconds=position)).isoformat(),
                    "properties": {"order_id": f"order-{order}"},
                }
            )
    return events


async def send(
    client: httpx.AsyncClient, headers: dict[str, str], tenant: str, events: list[dict[str, Any]]
) -> None:
    for start in range(0, len(events), 100):
        response = await client.post(
            f"/api/v1/tenants/{tenant}/events/batch",
            json={"events": events[start : start + 100]},
            headers=headers,
        )
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(events[start : start + 100])


def event(kind: str, product_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "user_id": fields.pop("user_id", "shopper"),
        "product_id": product_id,
        "timestamp": datetime.now(UTC).isoformat(),
    }
    if kind == "purchase":
        body.update(revenue="10.00", currency="EUR")
    body.update(fields)
    return body


async def bought_together(
    client: httpx.AsyncClient, headers: dict[str, str], tenant: str, product_id: str
) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/tenants/{tenant}/recommendations",
        params={"product_id": product_id, "strategy": "frequently_bought_together", "limit": 2},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_planted_co_purchases_show_within_a_minute_and_start_the_first_fit(
    client, first_fit_delay
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, planted_catalog())
    async with running_worker("models"):
        sent_at = time.monotonic()
        await send(client, owner.headers, tenant, planted_purchases())
        deadline = sent_at + 60
        while True:
            answers = {
                members[0]: await bought_together(client, owner.headers, tenant, members[0])
                for members in CLUSTERS
            }
            found = {
                head: {item["product_id"] for item in body["data"]}
                for head, body in answers.items()
            }
            if all(found[members[0]] == set(members[1:]) for members in CLUSTERS):
                break
            assert time.monotonic() < deadline, found
            await asyncio.sleep(1)
        assert time.monotonic() - sent_at < 60
        for body in answers.values():
            assert body["model_version"] is None  # no model was fitted, by hand or otherwise
            assert body["fallback"] is None
            assert body["data"][0]["reason"].startswith("Frequently bought together with Set")

        models_url = f"/api/v1/tenants/{tenant}/recommendations/models"
        while True:  # the first events asked for the first fit; the worker runs it
            listed = (await client.get(models_url, headers=owner.headers)).json()
            if listed["data"]:
                break
            assert time.monotonic() < sent_at + first_fit_delay + 90, listed
            await asyncio.sleep(1)
    [first] = listed["data"]
    assert (first["version"], first["events"], first["products"]) == (1, 1_200, 30)
    after = await bought_together(client, owner.headers, tenant, CLUSTERS[2][0])
    assert after["model_version"] == 1
    assert {item["product_id"] for item in after["data"]} == set(CLUSTERS[2][1:])


async def test_a_new_tenant_with_events_but_no_model_answers_from_live_trending(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    views = [event("view_item", "grey-sofa", user_id=f"u{n}") for n in range(3)]
    await send(client, owner.headers, tenant, [*views, event("add_to_cart", "oak-table")])
    response = await client.get(
        f"/api/v1/tenants/{tenant}/recommendations",
        params={"user_id": "someone-new"},
        headers=owner.headers,
    )
    body = response.json()
    assert (body["fallback"], body["model_version"], body["strategy"]) == ("trending", None, "auto")
    shown = [item["product_id"] for item in body["data"]]
    assert shown[:2] == ["oak-table", "grey-sofa"]  # a cart weighs three views
    assert body["data"][0]["reason"] == "Trending now"
    assert len(shown) == 10  # topped up with the shop's other products in stock


async def test_a_product_added_after_the_fit_trends_and_pairs_without_a_refit(
    client, tmp_path: Path
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    events_file, catalog_file = tmp_path / "events.jsonl", tmp_path / "catalog.jsonl"
    events_file.write_text("\n".join(json.dumps(row) for row in returning_shoppers()) + "\n")
    catalog_file.write_text("\n".join(json.dumps(row) for row in furniture()) + "\n")
    fitted = await fit_tenant(uuid.UUID(tenant), FileSource(events_file, catalog_file))
    assert fitted.version == 1
    await stock_the_catalog(
        client, owner.headers, tenant, [product("brass-lamp", "Brass Lamp", "Lighting")]
    )
    orders = [
        event("purchase", product_id, user_id=f"buyer-{n}", properties={"order_id": f"o-{n}"})
        for n in range(3)
        for product_id in ("brass-lamp", "oak-stool")
    ] + [  # orders without the stool: buying the lamp makes the stool likelier (lift 5/3)
        event("purchase", "grey-sofa", user_id=f"other-{n}", properties={"order_id": f"p-{n}"})
        for n in range(2)
    ]
    await send(client, owner.headers, tenant, orders)
    url = f"/api/v1/tenants/{tenant}/recommendations"
    trending = (
        await client.get(url, params={"strategy": "trending"}, headers=owner.headers)
    ).json()
    assert trending["model_version"] == 1
    hottest = {item["product_id"] for item in trending["data"][:2]}
    assert hottest == {"brass-lamp", "oak-stool"}  # bought just now, the lamp after the fit
    beside_a_chair = (
        await client.get(
            url, params={"strategy": "trending", "product_id": "oak-chair"}, headers=owner.headers
        )
    ).json()
    ranked = [item["product_id"] for item in beside_a_chair["data"]]
    assert ranked[0] == "oak-stool"  # hot in Chairs, then the model's chairs, then the rest
    assert ranked.index("brass-lamp") > 1
    together = await bought_together(client, owner.headers, tenant, "brass-lamp")
    assert [item["product_id"] for item in together["data"]] == ["oak-stool"]
    auto = (
        await client.get(url, params={"product_id": "brass-lamp"}, headers=owner.headers)
    ).json()
    assert auto["data"][0]["product_id"] == "oak-stool"
    assert auto["data"][0]["reason"] == "Frequently bought together with Brass Lamp"
    assert auto["fallback"] is None


@dataclass(frozen=True)
class Stored:
    """A stored event as tracking hands it to listeners."""

    type: str
    product_id: str | None
    occurred_at: datetime
    order_id: str | None = None
    user_id: str = "shopper"
    session_id: str | None = None


class TestLiveCounts:
    async def test_trending_decays_and_a_repeated_purchase_counts_once(self) -> None:
        tenant = uuid.uuid4()
        now = datetime.now(UTC)
        old = now - timedelta(days=10)  # a purchase 10 days ago weighs 10 x 2^(-10/3) < 1
        assert await record_events(
            tenant,
            [
                Stored("purchase", "old-hit", old, order_id="a"),
                Stored("view_item", "fresh", now),
                Stored("purchase", "x", now, order_id="b"),
                Stored("purchase", "y", now, order_id="b"),
                Stored("purchase", "y", now, order_id="b"),  # the same line again
                Stored("purchase", "x", now, order_id="c"),
                Stored("purchase", "y", now, order_id="c"),
                Stored("purchase", "z", now, order_id="d"),
                Stored("search", None, now),
            ],
        )
        live = await read_live(tenant, ["x"], 10, trending=True)
        ranked = [product_id for product_id, _ in live.trending]
        assert ranked.index("fresh") < ranked.index("old-hit")
        assert ranked[:2] == ["y", "x"]  # three purchase lines of y, two of x
        [rule] = live.rules
        assert (rule.product_id, rule.anchor) == ("y", "x")
        assert rule.confidence == pytest.approx(1.0)  # both orders with x hold y

    async def test_the_first_fit_is_asked_for_once(self) -> None:
        tenant = uuid.uuid4()
        now = datetime.now(UTC)
        await get_redis().set(model_version_key(tenant), 1)  # fitted on the catalog alone
        assert await record_events(tenant, [Stored("view_item", "a", now)])
        assert not await record_events(tenant, [Stored("view_item", "a", now)])
        await get_redis().delete(first_fit_guard_key(tenant))
        await get_redis().set(learnt_key(tenant), 1)  # a model learnt from events
        assert not await record_events(tenant, [Stored("view_item", "a", now)])

    async def test_trending_is_rebased_without_changing_its_order(self) -> None:
        tenant = uuid.uuid4()
        start = datetime.now(UTC)
        first = [Stored("purchase", "a", start), Stored("view_item", "b", start)]
        await record_events(tenant, first, now=start.timestamp())
        later = start.timestamp() + REBASE_AFTER_S + DAY_S
        await record_events(
            tenant, [Stored("view_item", "c", start + timedelta(days=31))], now=later
        )
        live = await read_live(tenant, [], 10, trending=True, now=later)
        weights = dict(live.trending)
        assert list(weights) == ["c", "a", "b"]
        assert weights["c"] == pytest.approx(1.0)  # the epoch is now: a fresh view weighs 1
        assert weights["a"] == pytest.approx(10 * 2 ** (-31 / 3), rel=1e-6)


async def test_new_products_ask_for_a_fit_soon(client) -> None:
    """The content-based part only places products it was fitted with: a new product asks
    for a fit (one waits at most, however many products an import creates)."""
    from mercato.kernel.events import subscribers
    from mercato.modules.recommendations.jobs import fit_new_products

    handler = "mercato.modules.recommendations.jobs.fit_new_products"
    assert handler in subscribers("product.created")
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}/recommendations/models"
    assert (await client.get(url, headers=owner.headers)).json()["fitting"] is False
    await fit_new_products(uuid.UUID(tenant), {"product_ids": ["a"]})  # as the worker does
    await fit_new_products(uuid.UUID(tenant), {"product_ids": ["b"]})
    assert (await client.get(url, headers=owner.headers)).json()["fitting"] is True
    assert (await client.post(url, headers=owner.headers)).status_code == 409
