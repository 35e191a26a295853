"""Builders of feed items for the channels tests: a clean item, changed per test."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from mercato.modules.channels import FeedItem

VALID_GTIN = "4006381333931"


def clean_item(product_id: str = "SKU-1", **overrides: Any) -> FeedItem:
    """An item that passes every check of the precheck with no issue at all."""
    item = FeedItem(
        product_id=product_id,
        name="Oslo 3-seat sofa, grey",
        description="A deep three-seat sofa with removable covers.",
        link=f"https://shop.example.com/p/{product_id}",
        image_url=f"https://cdn.example.com/img/{product_id}.jpg",
        price=Decimal("899.00"),
        currency="EUR",
        brand="Nordhus",
        gtin=VALID_GTIN,
        mpn="NH-OSLO-3",
        condition="new",
        stock_quantity=4,
        google_category_id=460,
    )
    return replace(item, **overrides)
