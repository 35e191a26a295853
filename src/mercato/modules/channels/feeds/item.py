"""A product as the Google channel sees it, and the attribute values Google receives.

`FeedItem` is the one input shape of the precheck, the hosted feed renderers and the
Merchant API push: the service layer fills it from catalog, inventory and category
alignment. The derivations here (availability from stock, `identifier_exists`) are shared
so the precheck judges exactly what the feed and the push then send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Final

from mercato.modules.catalog import is_valid_gtin

AVAILABILITIES: Final = frozenset({"in_stock", "out_of_stock", "preorder", "backorder"})
AVAILABILITIES_NEEDING_DATE: Final = frozenset({"preorder", "backorder"})
CONDITIONS: Final = frozenset({"new", "refurbished", "used"})
DEFAULT_CONDITION: Final = "new"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One product (or variant) offered to Google, in Mercato's words.

    `availability` is the merchant's explicit choice; when it is None it is derived from
    `stock_quantity` (inventory) or else `available` (the catalog's own flag).
    `google_category_id` comes from the alignment of the product's category; `is_variant`
    marks a product that is one variant of a group (it then needs `item_group_id`).
    """

    product_id: str
    name: str | None
    description: str | None = None
    link: str | None = None
    image_url: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    sale_price: Decimal | None = None
    brand: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    condition: str | None = None
    available: bool | None = None
    availability: str | None = None
    availability_date: date | datetime | None = None
    item_group_id: str | None = None
    is_variant: bool = False
    google_category_id: int | None = None
    stock_quantity: int | None = None


def effective_availability(item: FeedItem) -> str | None:
    """The availability Google receives: the explicit value, else derived from stock.

    None when nothing says whether the product can be bought (the precheck flags that).
    """
    if item.availability:
        return item.availability.strip().lower()
    if item.stock_quantity is not None:
        return "in_stock" if item.stock_quantity > 0 else "out_of_stock"
    if item.available is not None:
        return "in_stock" if item.available else "out_of_stock"
    return None


def effective_condition(item: FeedItem) -> str:
    """The condition Google receives; Google assumes new when none is sent, so do we."""
    return item.condition.strip().lower() if item.condition else DEFAULT_CONDITION


def valid_gtin(item: FeedItem) -> str | None:
    """The item's GTIN when it has a correct GTIN-8/12/13/14 check digit, else None."""
    gtin = (item.gtin or "").strip()
    return gtin if gtin and is_valid_gtin(gtin) else None


def has_unique_identifiers(item: FeedItem, gtin: str | None) -> bool:
    """Whether the item carries identifiers by Google's rule: a GTIN, or brand plus MPN.

    `gtin` is the item's `valid_gtin` (callers have it already; checking it twice would
    double the cost of a 100,000-item feed). When this is false the feed says
    `identifier_exists = no`: right for custom, handmade or vintage goods; for a product
    that has a GTIN it only limits how Google shows it.
    """
    return gtin is not None or bool(_text(item.brand) and _text(item.mpn))


def availability_timestamp(value: date | datetime) -> str:
    """An `availability_date` as RFC 3339 in UTC (`…Z`), the form both the feed and the
    Merchant API accept; a bare date or naive time is taken as UTC."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time.min)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str | None) -> str:
    return value.strip() if value else ""
