"""Bulk reads for other modules: every product of a tenant, and category alignments."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.catalog.models import Category, Product
from mercato.modules.catalog.products import product_read
from mercato.modules.catalog.schemas import ProductRead

PAGE = 1_000


async def iter_products(
    session: AsyncSession, tenant_id: uuid.UUID, *, page_size: int = PAGE
) -> AsyncIterator[ProductRead]:
    """Live products in product_id order, read in keyset pages of `page_size`.

    Each page is its own query, so a long consumer never holds a cursor open, and memory
    stays at one page. `session` must be scoped to `tenant_id`.
    """
    after: str | None = None
    while True:
        query = (
            select(Product)
            .where(Product.tenant_id == tenant_id, Product.deleted_at.is_(None))
            .order_by(Product.product_id)
            .limit(page_size)
        )
        if after is not None:
            query = query.where(Product.product_id > after)
        page = list((await session.scalars(query)).all())
        for product in page:
            yield product_read(product)
        if len(page) < page_size:
            return
        after = page[-1].product_id


@dataclass(frozen=True)
class CategoryAlignment:
    category_id: uuid.UUID
    path: str
    google_category_id: int | None


async def category_alignments(
    session: AsyncSession, tenant_id: uuid.UUID
) -> list[CategoryAlignment]:
    """Every category path with its Google category id (None where not aligned yet)."""
    rows = await session.execute(
        select(Category.id, Category.path, Category.google_category_id)
        .where(Category.tenant_id == tenant_id)
        .order_by(Category.path)
    )
    return [CategoryAlignment(id_, path, google) for id_, path, google in rows]
