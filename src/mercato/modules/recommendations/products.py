"""Turning a model's product ids into what a shopper sees: name, price, image, reason.

Names, prices and images come from the catalog's live snapshots, not from the model, so
a renamed or repriced product shows its current facts; a product the catalog no longer
offers (deleted, unavailable, unknown) is dropped even if the model still ranks it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.catalog import get_products
from mercato.modules.recommendations.schemas import RecommendedProduct
from mercato.modules.recommendations.strategies import Recommendation


async def describe_products(
    session: AsyncSession, tenant_id: uuid.UUID, found: Sequence[Recommendation]
) -> list[RecommendedProduct]:
    """Recommended products that are on sale now, in the model's order."""
    snapshots = await get_products(session, tenant_id, [item.product_id for item in found])
    described = []
    for item in found:
        product = snapshots.get(item.product_id)
        if product is None or product.deleted or not product.available:
            continue
        described.append(
            RecommendedProduct(
                product_id=item.product_id,
                name=product.name,
                price=product.current_price,
                currency=product.currency,
                image_url=product.image_url,
                score=round(item.score, 6),
                reason=item.reason,
            )
        )
    return described
