"""Shapes of the recommendations API (`GET {T}/recommendations`, `{T}/recommendations/models`,
API.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

StrategyName = Literal[
    "collaborative", "content_based", "trending", "frequently_bought_together", "auto"
]
"""The strategies a caller may ask for, by the names the API uses."""

PLACEMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""A placement is the merchant's name for a slot on their site (`product_page`, `cart`)."""


MAX_LIST = 50


class RecommendationParams(BaseModel):
    """The query of `GET {T}/recommendations` (the route and its lean handler share it)."""

    user_id: str | None = Field(None, max_length=200)
    product_id: str | None = Field(None, max_length=128)
    placement: str | None = Field(None, pattern=PLACEMENT_PATTERN)
    strategy: StrategyName | None = None
    limit: int = Field(10, ge=1, le=MAX_LIST)
    exclude: str | None = Field(
        None, max_length=8000, description="Product ids never to return, comma-separated"
    )
    viewed: str | None = Field(
        None, max_length=8000, description="This visit's earlier products, oldest first"
    )


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
    fallback: Literal["trending", "popular"] | None = Field(
        None,
        description="Set when no model could answer: `trending` (live trending counts) or "
        "`popular` (the shop's products in stock, for a shop without events yet)",
    )


class StrategyScore(BaseModel):
    hit_rate: float
    ndcg: float


class ModelRead(BaseModel):
    """One fitted version of the tenant's model (`GET {T}/recommendations/models`)."""

    version: int
    fitted_at: datetime
    events: int
    products: int
    users: int
    fit_seconds: float
    size_bytes: int
    scores: dict[str, StrategyScore] = Field(
        description="HR@10 and NDCG@10 per strategy on the last week held out; empty when "
        "the history was too short to hold a week out"
    )


class ModelList(BaseModel):
    data: list[ModelRead]
    fitting: bool = Field(description="Whether a fit of the tenant waits or runs now")


class FitQueued(BaseModel):
    job_id: int
