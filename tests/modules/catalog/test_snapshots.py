"""The public read API other modules use: cached snapshots and the product iterator."""

from __future__ import annotations

import uuid
from decimal import Decimal

from mercato.kernel.db import get_database
from mercato.kernel.redis import get_redis
from mercato.modules.catalog import get_products, iter_products
from mercato.modules.catalog.cache import snapshot_key
from tests.modules.catalog.factories import open_shop, put_product


async def _snapshots(tenant_id: uuid.UUID, ids: list[str]):
    async with get_database().tenant_session(tenant_id) as session:
        return await get_products(session, tenant_id, ids)


async def test_snapshots_are_cached_and_invalidated_after_a_change(client) -> None:
    shop = await open_shop(client)
    tenant_id = uuid.UUID(shop.tenant_id)
    await put_product(client, shop, "lamp", price="10.00", sale_price="8.00")
    first = await _snapshots(tenant_id, ["lamp", "unknown"])
    assert list(first) == ["lamp"]
    assert first["lamp"].current_price == Decimal("8.00")
    assert await get_redis().exists(snapshot_key(tenant_id, "lamp"))
    await client.patch(
        f"{shop.base}/products/lamp", json={"price": "12.00"}, headers=shop.owner.headers
    )
    assert not await get_redis().exists(snapshot_key(tenant_id, "lamp"))
    assert (await _snapshots(tenant_id, ["lamp"]))["lamp"].price == Decimal("12.00")
    await client.delete(f"{shop.base}/products/lamp", headers=shop.owner.headers)
    assert (await _snapshots(tenant_id, ["lamp"]))["lamp"].deleted is True


async def test_a_cached_snapshot_is_never_served_to_another_tenant(client) -> None:
    shop, other = await open_shop(client), await open_shop(client)
    await put_product(client, shop, "same-id", name="Mine")
    await _snapshots(uuid.UUID(shop.tenant_id), ["same-id"])
    assert await _snapshots(uuid.UUID(other.tenant_id), ["same-id"]) == {}


async def test_iter_products_walks_every_live_product_in_pages(client) -> None:
    shop = await open_shop(client)
    items = [
        {"product_id": f"i{n:02d}", "name": f"Item {n}", "price": "1", "currency": "EUR"}
        for n in range(23)
    ]
    await client.post(
        f"{shop.base}/products/batch", json={"products": items}, headers=shop.owner.headers
    )
    await client.delete(f"{shop.base}/products/i05", headers=shop.owner.headers)
    tenant_id = uuid.UUID(shop.tenant_id)
    async with get_database().tenant_session(tenant_id) as session:
        seen = [p.product_id async for p in iter_products(session, tenant_id, page_size=5)]
    assert seen == [f"i{n:02d}" for n in range(23) if n != 5]
