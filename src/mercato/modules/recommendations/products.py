"""Turning a model's product ids into what a shopper sees: name, price, image, reason."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.recommendations.registry import LoadedModel
from mercato.modules.recommendations.schemas import RecommendedProduct
from mercato.modules.recommendations.strategies import Recommendation


async def describe_products(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    model: LoadedModel,
    found: Sequence[Recommendation],
) -> list[RecommendedProduct]:
    """Recommended products with the names the model was fitted with."""
    catalog = model.auto.catalog
    described = []
    for item in found:
        index = catalog.index(item.product_id)
        described.append(
            RecommendedProduct(
                product_id=item.product_id,
                name=str(catalog.labels[index]) if index >= 0 else item.product_id,
                price=None,
                image_url=None,
                score=round(item.score, 6),
                reason=item.reason,
            )
        )
    return described
