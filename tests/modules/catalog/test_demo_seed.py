"""The demo catalog seed: generated products with drawn images stored as media."""

from __future__ import annotations

import uuid

from mercato.demo import DemoContext
from mercato.demo.catalog import seed_tenant_catalog
from mercato.kernel.db import get_database
from mercato.modules.catalog.gtin import is_valid_gtin
from mercato.settings import get_settings
from tests.modules.catalog.factories import open_shop

PUBLIC = "http://127.0.0.1:8000"


async def test_seed_stores_products_with_served_images_and_aligned_categories(client) -> None:
    shop = await open_shop(client)
    context = DemoContext(get_settings(), get_database(), credentials={})
    await seed_tenant_catalog(context, uuid.UUID(shop.tenant_id), products=30)
    listed = await client.get(
        f"{shop.base}/products", params={"limit": 100}, headers=shop.owner.headers
    )
    products = listed.json()["data"]
    assert len(products) == 30
    assert all(is_valid_gtin(p["gtin"]) for p in products)
    assert all(p["brand"] for p in products)
    picture = await client.get(products[0]["image_url"].replace(PUBLIC, ""))
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    tree = await client.get(
        f"{shop.base}/categories", params={"limit": 500}, headers=shop.owner.headers
    )
    assert any(c["google_category_id"] for c in tree.json()["data"])
    # A second run (an interrupted seed restarted) adds nothing and draws nothing new.
    media_before = await client.get(
        f"{shop.base}/media", params={"limit": 500}, headers=shop.owner.headers
    )
    await seed_tenant_catalog(context, uuid.UUID(shop.tenant_id), products=30)
    media_after = await client.get(
        f"{shop.base}/media", params={"limit": 500}, headers=shop.owner.headers
    )
    assert len(media_after.json()["data"]) == len(media_before.json()["data"]) == 30
