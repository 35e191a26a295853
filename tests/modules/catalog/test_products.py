"""Products over HTTP: the API.md flows, field-level validation, soft delete, events."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from mercato.kernel.db import get_database
from tests.modules.catalog.factories import (
    new_product_id,
    open_shop,
    product_body,
    put_product,
)


async def test_put_creates_then_replaces_and_get_returns_the_document(client) -> None:
    shop = await open_shop(client)
    url = f"{shop.base}/products/chair-1"
    created = await client.put(url, json=product_body(), headers=shop.owner.headers)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["product_id"] == "chair-1"
    assert document["price"] == "129.90"
    assert document["category"] == "Furniture > Chairs"
    replaced = await client.put(
        url, json=product_body(price="99.50", brand=None), headers=shop.owner.headers
    )
    assert replaced.status_code == 200
    fetched = await client.get(url, headers=shop.owner.headers)
    assert fetched.status_code == 200
    assert fetched.json()["price"] == "99.50"
    assert fetched.json()["brand"] is None


async def test_patch_changes_only_the_given_fields(client) -> None:
    shop = await open_shop(client)
    pid = new_product_id()
    await put_product(client, shop, pid)
    response = await client.patch(
        f"{shop.base}/products/{pid}",
        json={"sale_price": "99.00", "available": False},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sale_price"] == "99.00"
    assert body["current_price"] == "99.00"
    assert body["available"] is False
    assert body["name"] == "Oak Dining Chair"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "1.23456"}, "price"),
        ({"currency": "XYZ"}, "currency"),
        ({"gtin": "4006381333932"}, "gtin"),
        ({"sale_price": "500"}, "sale_price"),
        ({"condition": "broken"}, "condition"),
        ({"link": "ftp://x"}, "link"),
        ({"category": "Furniture >  > Chairs"}, "category"),
        ({"name": ""}, "name"),
    ],
)
async def test_invalid_fields_are_422_problems_naming_the_field(client, overrides, field) -> None:
    shop = await open_shop(client)
    response = await client.put(
        f"{shop.base}/products/{new_product_id()}",
        json=product_body(**overrides),
        headers=shop.owner.headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_patch_that_breaks_an_invariant_is_422(client) -> None:
    shop = await open_shop(client)
    pid = new_product_id()
    await put_product(client, shop, pid, sale_price="100.00")
    response = await client.patch(
        f"{shop.base}/products/{pid}", json={"price": "90"}, headers=shop.owner.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sale_price"


async def test_delete_is_soft_and_put_revives(client, owner_dsn) -> None:
    shop = await open_shop(client)
    pid = new_product_id()
    await put_product(client, shop, pid)
    url = f"{shop.base}/products/{pid}"
    assert (await client.delete(url, headers=shop.owner.headers)).status_code == 204
    assert (await client.get(url, headers=shop.owner.headers)).status_code == 404
    assert (await client.delete(url, headers=shop.owner.headers)).status_code == 404
    listed = await client.get(f"{shop.base}/products", headers=shop.owner.headers)
    assert listed.json()["data"] == []
    revived = await client.put(url, json=product_body(), headers=shop.owner.headers)
    assert revived.status_code == 201


async def test_body_product_id_must_match_the_path(client) -> None:
    shop = await open_shop(client)
    response = await client.put(
        f"{shop.base}/products/a-1",
        json=product_body(product_id="b-2"),
        headers=shop.owner.headers,
    )
    assert response.status_code == 422


async def test_changes_enqueue_product_events_in_the_same_transaction(client) -> None:
    from mercato.kernel.events import _handlers, handler_name, subscribe

    seen: list[str] = []

    @subscribe("product.created")
    @subscribe("product.updated")
    @subscribe("product.deleted")
    async def remember(tenant_id, payload) -> None:
        seen.extend(payload["product_ids"])

    try:
        shop = await open_shop(client)
        pid = new_product_id()
        await put_product(client, shop, pid)
        await put_product(client, shop, pid, name="Renamed")
        await client.delete(f"{shop.base}/products/{pid}", headers=shop.owner.headers)
        async with get_database().tenant_session(shop.tenant_id) as session:
            rows = await session.execute(
                text(
                    "SELECT args->>'event' FROM procrastinate_jobs "
                    "WHERE task_name = 'events.deliver' AND args->>'tenant_id' = :t "
                    "AND args->>'handler' = :handler ORDER BY id"
                ),
                # Other modules subscribe to product events too (recommendations drop
                # their cached lists): count this test's own deliveries.
                {"t": shop.tenant_id, "handler": handler_name(remember)},
            )
            events = [row[0] for row in rows]
        assert events.count("product.created") == 1
        assert events.count("product.updated") == 1
        assert events.count("product.deleted") == 1
    finally:
        for event in ("product.created", "product.updated", "product.deleted"):
            _handlers[event].pop(f"{remember.__module__}.{remember.__qualname__}", None)
