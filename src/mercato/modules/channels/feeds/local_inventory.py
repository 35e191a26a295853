"""A product's stock at one store as Google's `LocalInventory` (inventories v1).

Availability and quantity come from the units available at that location (on hand less
reserved); price and sale price are the ones the product input carries, so a shopper sees
the same price online and in the store.
"""

from __future__ import annotations

from typing import Any

from mercato.modules.channels.feeds.item import FeedItem
from mercato.modules.channels.feeds.merchant_api import MerchantTarget, product_input


def local_inventory(
    item: FeedItem, target: MerchantTarget, store_code: str, available: int
) -> dict[str, Any]:
    """The `LocalInventory` JSON of `item` at `store_code` with `available` units."""
    attributes: dict[str, Any] = {
        "availability": "IN_STOCK" if available > 0 else "OUT_OF_STOCK",
        "quantity": str(max(available, 0)),
    }
    product_attributes = product_input(item, target)["productAttributes"]
    for name in ("price", "salePrice"):
        if name in product_attributes:
            attributes[name] = product_attributes[name]
    return {"storeCode": store_code, "localInventoryAttributes": attributes}
