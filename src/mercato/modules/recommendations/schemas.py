"""Shapes of the recommendations API (`GET {T}/recommendations`, API.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

StrategyName = Literal[
    "collaborative", "content_based", "trending", "frequently_bought_together", "auto"
]
"""The strategies a caller may ask for, by the names the API uses."""

PLACEMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""A placement is the merchant's name for a slot on their site (`product_page`, `cart`)."""


class RecommendedProduct(BaseModel):
    product_id: str
    name: str
    price: Decimal | None
    currency: str | None = None
    image_url: str | None
    score: float
    reason: str


class RecommendationList(BaseModel):
    data: list[RecommendedProduct]
    strategy: StrategyName
    experiment_id: str | None = None
    variant: str | None = None
    model_version: int | None = None
