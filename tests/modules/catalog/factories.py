"""Catalog test data: product bodies and a staffed tenant to put them in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from mercato.modules.catalog.gtin import complete_gtin
from tests.factories import Staff, create_tenant, signup_and_login


@dataclass
class Shop:
    owner: Staff
    tenant_id: str

    @property
    def base(self) -> str:
        return f"/api/v1/tenants/{self.tenant_id}"


async def open_shop(client: httpx.AsyncClient) -> Shop:
    owner = await signup_and_login(client)
    return Shop(owner, await create_tenant(client, owner))


def product_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Oak Dining Chair",
        "price": "129.90",
        "currency": "EUR",
        "description": "Solid oak chair with a woven seat.",
        "category": "Furniture > Chairs",
        "brand": "Nordwood",
        "gtin": complete_gtin("400638133393"),
        "condition": "new",
        "link": "https://shop.example/p/oak-chair",
        "image_url": "https://shop.example/img/oak-chair.jpg",
        "available": True,
        "attributes": {"material": "oak"},
    }
    body.update(overrides)
    return body


def new_product_id() -> str:
    return f"sku-{secrets.token_hex(4)}"


async def put_product(
    client: httpx.AsyncClient, shop: Shop, product_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.put(
        f"{shop.base}/products/{product_id}",
        json=product_body(**overrides),
        headers=shop.owner.headers,
    )
    assert response.status_code in (200, 201), response.text
    created: dict[str, Any] = response.json()
    return created
