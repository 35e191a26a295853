"""What the Google channel needs from the catalog beyond reading products: setting a
category's Google category, and two aggregates for alignment (products per category, the
names of a category's products). The catalog owns these rows, so the SQL lives here; the
channels module owns the alignment workflow and its audit trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import NotFound
from mercato.modules.catalog.models import Category, Product


@dataclass(frozen=True, slots=True)
class GoogleCategoryChange:
    path: str
    previous_google_category_id: int | None


async def set_google_category(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    category_id: uuid.UUID,
    google_category_id: int | None,
) -> GoogleCategoryChange:
    """Set (None: clear) a category's Google category under a row lock; 404 if unknown."""
    category = await session.get(Category, (tenant_id, category_id), with_for_update=True)
    if category is None:
        raise NotFound("No such category")
    previous = category.google_category_id
    category.google_category_id = google_category_id
    await session.flush()
    return GoogleCategoryChange(path=category.path, previous_google_category_id=previous)


async def products_per_category(
    session: AsyncSession, tenant_id: uuid.UUID
) -> dict[uuid.UUID | None, int]:
    """Live products by category id (None: products without a category)."""
    rows = await session.execute(
        select(Product.category_id, func.count())
        .where(Product.tenant_id == tenant_id, Product.deleted_at.is_(None))
        .group_by(Product.category_id)
    )
    return {category_id: count for category_id, count in rows}


async def category_product_names(
    session: AsyncSession, tenant_id: uuid.UUID, category_id: uuid.UUID, *, limit: int
) -> list[str]:
    """Names of up to `limit` live products directly in the category."""
    rows = await session.scalars(
        select(Product.name)
        .where(
            Product.tenant_id == tenant_id,
            Product.category_id == category_id,
            Product.deleted_at.is_(None),
        )
        .order_by(Product.product_id)
        .limit(limit)
    )
    return list(rows)
