"""Demo seed: the demo tenant's catalog — 500 generated products in the generator's
category tree (aligned with Google's taxonomy), each with a locally drawn image stored
through the media pipeline.

The seed matches the shop simulator's (`generate_catalog(products=500, seed=42)`), so
simulated demo traffic names these very products. Re-running after an interruption
upserts the same products and reuses images already stored.
"""

from __future__ import annotations

import asyncio
import uuid

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.catalog import (
    ProductCreate,
    align_google_categories,
    backdate_products,
    ensure_paths,
    media_image_urls,
    upsert_products,
)
from mercato.modules.media import get_storage, media_url, upload_media
from mercato.simulation import Catalog, ProductDoc, generate_catalog, render_product_image

DEMO_PRODUCTS = 500
DEMO_SEED = 42
IMAGE_SIZE = 400
DRAWING_AT_ONCE = 2  # the machine's cores: drawing and encoding release the GIL


async def _stored_images(context: DemoContext, tenant_id: uuid.UUID) -> dict[str, str]:
    async with context.database.tenant_session(tenant_id) as session:
        return await media_image_urls(session)


async def _images(
    context: DemoContext, tenant_id: uuid.UUID, products: list[ProductDoc]
) -> dict[str, str]:
    """product_id → public URL of its picture, drawing only the ones not stored yet."""
    urls = await _stored_images(context, tenant_id)
    storage = get_storage()
    gate = asyncio.Semaphore(DRAWING_AT_ONCE)

    async def picture(doc: ProductDoc) -> None:
        async with gate:
            data = await asyncio.to_thread(render_product_image, doc, size=IMAGE_SIZE)
            async with context.database.tenant_session(tenant_id) as session:
                asset = await upload_media(
                    session,
                    storage,
                    tenant_id=tenant_id,
                    data=data,
                    filename=f"{doc['product_id']}.png",
                )
            urls[doc["product_id"]] = media_url(asset)

    await asyncio.gather(*(picture(doc) for doc in products if doc["product_id"] not in urls))
    return urls


async def _align_categories(catalog: Catalog, tenant_id: uuid.UUID, context: DemoContext) -> None:
    async with context.database.tenant_session(tenant_id) as session:
        await ensure_paths(session, tenant_id, [node.path for node in catalog.categories])
        aligned = {
            node.path.lower(): node.google_category_id
            for node in catalog.categories
            if node.google_category_id is not None
        }
        await align_google_categories(session, tenant_id, aligned)


async def seed_catalog(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    await seed_tenant_catalog(context, tenant_id, products=DEMO_PRODUCTS)


async def seed_tenant_catalog(context: DemoContext, tenant_id: uuid.UUID, *, products: int) -> None:
    """Generate, draw and store the catalog of `products` products into one tenant."""
    catalog = generate_catalog(products=products, seed=DEMO_SEED)
    await _align_categories(catalog, tenant_id, context)
    images = await _images(context, tenant_id, catalog.products)
    items = [
        ProductCreate.model_validate({**doc, "image_url": images[doc["product_id"]]})
        for doc in catalog.products
    ]
    async with context.database.tenant_session(tenant_id) as session:
        await upsert_products(session, tenant_id, items)
        # Listing dates spread over two years, so "newest" and trends look like a real shop.
        await backdate_products(session, tenant_id, catalog.created_at)
    context.notes.append(
        f"  catalog:   {len(items)} products in {len(catalog.categories)} categories"
    )


STEPS = [SeedStep("catalog.demo_catalog", 20, seed_catalog)]
