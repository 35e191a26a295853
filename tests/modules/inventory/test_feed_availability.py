"""The channels feed derives availability from stock when the merchant set none."""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.modules.channels import effective_availability
from mercato.modules.channels.feeds.source import feed_items
from tests.modules.orders.shop import cart_with, checkout, open_shop


async def test_feed_availability_follows_stock(client) -> None:
    shop = await open_shop(
        client,
        products={"stocked": "5.00", "sold-out": "5.00", "untracked": "5.00"},
        stock={("stocked", "W"): 3, ("sold-out", "W"): 1},
    )
    # The last unit is reserved by a checkout: nothing left to sell.
    assert (
        await checkout(client, shop, await cart_with(client, shop, {"sold-out": 1}))
    ).status_code == 201
    tenant = uuid.UUID(shop.tenant)
    async with get_database().tenant_session(tenant) as session:
        items = {item.product_id: item async for item in feed_items(session, tenant)}
    assert items["stocked"].stock_quantity == 3
    assert effective_availability(items["stocked"]) == "in_stock"
    assert effective_availability(items["sold-out"]) == "out_of_stock"
    assert items["untracked"].stock_quantity is None
    assert effective_availability(items["untracked"]) == "in_stock"  # the catalog flag
