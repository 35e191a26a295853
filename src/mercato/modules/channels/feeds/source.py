"""Products as feed items: the catalog's products with their category's Google alignment.

One function turns the catalog into `FeedItem`s for the precheck, the push and the hosted
feed alike, so all three judge and send the same thing. Products stream in the catalog's
keyset pages; the tenant's categories (a few thousand at most) are read once up front.

Where attributes come from:
- availability: the product's `attributes.availability` when the merchant set one
  (`preorder`, `backorder` … with `attributes.availability_date`), else its stock (units
  available over all locations, when the product has stock rows), else the catalog's
  `available` flag;
- image and page links: stored as given; a path on this server (`/media/…`) is made
  absolute with `MERCATO_PUBLIC_URL`, because Google only fetches absolute URLs;
- `google_category_id`: the alignment of the product's category;
- `is_variant`: the product has variant attributes (then it needs `item_group_id`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.catalog import ProductRead, category_alignments, iter_products
from mercato.modules.channels.feeds.item import FeedItem
from mercato.modules.channels.feeds.precheck import blocks_item, check_item
from mercato.modules.channels.feeds.render import FeedChannel
from mercato.modules.identity import tenant_facts
from mercato.modules.inventory import available_units
from mercato.modules.profile import get_profile
from mercato.settings import get_settings


async def aligned_categories(session: AsyncSession, tenant_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Category id → Google category id, for the aligned categories of the tenant."""
    return {
        row.category_id: row.google_category_id
        for row in await category_alignments(session, tenant_id)
        if row.google_category_id is not None
    }


async def feed_items(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    product_ids: Collection[str] | None = None,
) -> AsyncIterator[FeedItem]:
    """Every live product (or only `product_ids`) as a `FeedItem`, in product id order."""
    alignment = await aligned_categories(session, tenant_id)
    base_url = get_settings().public_url.rstrip("/")
    wanted = set(product_ids) if product_ids is not None else None
    stock = await available_units(session, tenant_id, None if wanted is None else sorted(wanted))
    async for product in iter_products(session, tenant_id):
        if wanted is None or product.product_id in wanted:
            yield feed_item(product, alignment, base_url, stock.get(product.product_id))


async def valid_feed_items(
    session: AsyncSession, tenant_id: uuid.UUID, known_categories: Collection[int] | None
) -> AsyncIterator[FeedItem]:
    """The items without blocking issues: what the hosted feed holds."""
    async for item in feed_items(session, tenant_id):
        if not blocks_item(check_item(item, known_categories)):
            yield item


def feed_item(
    product: ProductRead,
    alignment: dict[uuid.UUID, int],
    base_url: str,
    stock_quantity: int | None = None,
) -> FeedItem:
    attributes = product.attributes or {}
    return FeedItem(
        product_id=product.product_id,
        name=product.name,
        description=product.description,
        link=_absolute(product.link, base_url),
        image_url=_absolute(product.image_url, base_url),
        price=product.price,
        currency=product.currency,
        sale_price=product.sale_price,
        brand=product.brand,
        gtin=product.gtin,
        mpn=product.mpn,
        condition=product.condition,
        available=product.available,
        stock_quantity=stock_quantity,
        availability=_text(attributes.get("availability")),
        availability_date=_date(attributes.get("availability_date")),
        item_group_id=product.item_group_id,
        is_variant=bool(product.variant_attributes),
        google_category_id=alignment.get(product.category_id) if product.category_id else None,
    )


def _absolute(url: str | None, base_url: str) -> str | None:
    if url and url.startswith("/") and not url.startswith("//"):
        return base_url + url
    return url


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _date(value: Any) -> date | datetime | None:
    """An ISO date or timestamp from product attributes; anything else counts as absent."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None


async def feed_channel(session: AsyncSession, tenant_id: uuid.UUID) -> FeedChannel:
    """The feed's header: the business name and website from the profile when it has them."""
    profile = await get_profile(session, tenant_id)
    name = profile.name if profile and profile.name else None
    if name is None:
        tenant = await tenant_facts(session, tenant_id)
        name = tenant.name if tenant else None
    website = profile.website if profile and profile.website else get_settings().public_url
    title = str(name or "Products")
    return FeedChannel(title=title, link=website, description=f"Products of {title}")
