"""A shop to test commerce against: tenant, storefront key, products, locations, stock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import Staff, create_api_key, create_tenant, signup_and_login


@dataclass
class Shop:
    tenant: str
    owner: Staff
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def url(self, path: str) -> str:
        return f"/api/v1/tenants/{self.tenant}{path}"


async def open_shop(
    client: httpx.AsyncClient,
    *,
    products: dict[str, str] | None = None,
    stock: dict[tuple[str, str], int] | None = None,
    currency: str = "EUR",
) -> Shop:
    """`products`: id → price; `stock`: (product, location) → on_hand."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant))["key"]
    shop = Shop(tenant, owner, key)
    for product_id, price in (products or {}).items():
        response = await client.put(
            shop.url(f"/products/{product_id}"),
            json={"name": f"Product {product_id}", "price": price, "currency": currency},
            headers=owner.headers,
        )
        assert response.status_code == 201, response.text
    for code in sorted({loc for _, loc in (stock or {})}):
        response = await client.put(
            shop.url(f"/locations/{code}"), json={"name": f"Store {code}"}, headers=owner.headers
        )
        assert response.status_code == 201, response.text
    for (product_id, code), units in (stock or {}).items():
        response = await client.put(
            shop.url(f"/inventory/{product_id}/{code}"),
            json={"on_hand": units},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
    return shop


async def cart_with(
    client: httpx.AsyncClient,
    shop: Shop,
    items: dict[str, int],
    *,
    location_code: str | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    body: dict[str, Any] = {}
    if location_code:
        body["location_code"] = location_code
    created = await client.post(shop.url("/carts"), json=body, headers=headers or shop.headers)
    assert created.status_code == 201, created.text
    cart_id = str(created.json()["id"])
    for product_id, quantity in items.items():
        added = await client.post(
            shop.url(f"/carts/{cart_id}/items"),
            json={"product_id": product_id, "quantity": quantity},
            headers=headers or shop.headers,
        )
        assert added.status_code == 200, added.text
    return cart_id


async def checkout(
    client: httpx.AsyncClient,
    shop: Shop,
    cart_id: str,
    *,
    key: str | None = None,
    provider: str = "manual",
    email: str = "shopper@example.com",
    extra: dict[str, Any] | None = None,
) -> httpx.Response:
    headers = {**shop.headers, "Idempotency-Key": key or str(uuid.uuid4())}
    body = {"cart_id": cart_id, "email": email, "payment_provider": provider, **(extra or {})}
    return await client.post(shop.url("/checkout"), json=body, headers=headers)


async def stock_of(client: httpx.AsyncClient, shop: Shop, product_id: str) -> dict[str, Any]:
    response = await client.get(shop.url(f"/inventory/{product_id}"), headers=shop.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def ledger_is_consistent(client: httpx.AsyncClient, shop: Shop, product_id: str) -> bool:
    response = await client.get(shop.url(f"/inventory-ledger/{product_id}"), headers=shop.headers)
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    return bool(rows) and all(row["consistent"] for row in rows)
