"""A small shop built through the catalog's API, with one product for each defect the feed
precheck must catch, plus clean products in an aligned and an unaligned category."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.modules.catalog import complete_gtin
from tests.factories import Staff

SOFAS = "Furniture > Sofas"
GARDEN = "Garden > Odds and ends"
SOFAS_GOOGLE_ID = 460
CLEAN = ("clean-1", "clean-2", "clean-3")
VALID = (*CLEAN, "unaligned")
DEFECTS = {
    "no-image": ("image_link", "missing_image_link"),
    "bad-gtin": ("gtin", "invalid_gtin"),
    "long-title": ("title", "title_too_long"),
    "free": ("price", "price_not_positive"),
    "preorder": ("availability_date", "availability_date_required"),
}


@dataclass
class Shop:
    tenant: str
    owner: Staff
    categories: dict[str, str]

    def url(self, path: str) -> str:
        return f"/api/v1/tenants/{self.tenant}{path}"


def product(product_id: str, number: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": f"Oslo 3-seat sofa {product_id}",
        "description": "A deep three-seat sofa with removable covers.",
        "price": "899.00",
        "currency": "EUR",
        "category": SOFAS,
        "brand": "Nordhus",
        "gtin": complete_gtin(f"400638133{number:03d}"),
        "mpn": f"NH-{product_id}",
        "condition": "new",
        "link": f"https://shop.example.com/p/{product_id}",
        "image_url": f"https://cdn.example.com/img/{product_id}.jpg",
        "available": True,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


async def put_product(client: httpx.AsyncClient, shop: Shop, product_id: str, body: dict) -> None:
    response = await client.put(
        shop.url(f"/products/{product_id}"), json=body, headers=shop.owner.headers
    )
    assert response.status_code in (200, 201), response.text


async def category_ids(client: httpx.AsyncClient, shop: Shop) -> dict[str, str]:
    listed = await client.get(shop.url("/categories?limit=500"), headers=shop.owner.headers)
    assert listed.status_code == 200, listed.text
    return {row["path"]: row["id"] for row in listed.json()["data"]}


async def plant_bad_gtin(tenant: str, product_id: str) -> None:
    """The catalog refuses a wrong check digit today; data imported before it did not."""
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        await session.execute(
            text("UPDATE product SET gtin = '4006381333932' WHERE product_id = :id"),
            {"id": product_id},
        )


async def build_shop(
    client: httpx.AsyncClient, tenant: str, owner: Staff, *, align: bool = True
) -> Shop:
    shop = Shop(tenant, owner, {})
    bodies = {product_id: product(product_id, n) for n, product_id in enumerate(CLEAN)}
    bodies["unaligned"] = product("unaligned", 10, category=GARDEN, name="Garden gnome")
    bodies["no-image"] = product("no-image", 11, image_url=None)
    bodies["bad-gtin"] = product("bad-gtin", 12)
    bodies["long-title"] = product("long-title", 13, name="t" * 151)
    bodies["free"] = product("free", 14, price="0")
    bodies["preorder"] = product("preorder", 15, attributes={"availability": "preorder"})
    for product_id, body in bodies.items():
        await put_product(client, shop, product_id, body)
    await plant_bad_gtin(tenant, "bad-gtin")
    shop.categories = await category_ids(client, shop)
    if align:
        response = await client.post(
            shop.url(f"/categories/{shop.categories[SOFAS]}/align"),
            json={"google_category_id": SOFAS_GOOGLE_ID},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
    return shop
