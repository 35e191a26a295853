"""`GET {T}/recommendations`: pick the strategy (an experiment on the placement decides
it per shopper), answer from Redis when the same list was computed recently, otherwise
ask the tenant's newest model and describe the products from the catalog.

The cache key holds everything that shapes the answer (strategy asked for, placement,
user, product, limit, exclusions) plus the tenant's cache generation, which moves on a
new model version, a catalog change and an experiment starting or stopping. A list the
live counts took part in (`sources`) is cached `reco_live_cache_ttl_s` only, so new
purchases and views show in it within a minute.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.recommendations.cache import Lookup, lookup, store
from mercato.modules.recommendations.choice import StrategyChoice, experiment_choice
from mercato.modules.recommendations.products import describe_products
from mercato.modules.recommendations.registry import model_registry
from mercato.modules.recommendations.schemas import (
    RecommendationList,
    RecommendationParams,
    StrategyName,
)
from mercato.modules.recommendations.sources import Ask, answer, in_stock
from mercato.modules.recommendations.telemetry import COMPUTE_SECONDS, count_lookup
from mercato.settings import get_settings

MAX_IDS = 50


@dataclass(frozen=True)
class RecommendationQuery:
    user_id: str | None = None
    product_id: str | None = None
    placement: str | None = None
    strategy: StrategyName | None = None
    limit: int = 10
    exclude: tuple[str, ...] = ()
    recently_viewed: tuple[str, ...] = ()

    def cache_parts(self) -> tuple[object, ...]:
        return (
            self.strategy or "",
            self.placement or "",
            self.user_id or "",
            self.product_id or "",
            self.limit,
            ",".join(sorted(self.exclude)),
            ",".join(self.recently_viewed),
        )


def _ids(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(part.strip() for part in raw.split(",") if part.strip())[:MAX_IDS]


def recommendation_query(params: RecommendationParams) -> RecommendationQuery:
    return RecommendationQuery(
        user_id=params.user_id or None,
        product_id=params.product_id or None,
        placement=params.placement,
        strategy=params.strategy,
        limit=params.limit,
        exclude=_ids(params.exclude),
        recently_viewed=_ids(params.viewed),
    )


async def choose_strategy(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    query: RecommendationQuery,
    generation: int | None = None,
) -> StrategyChoice:
    """An explicit `strategy=` wins; otherwise the experiment running on the placement
    assigns the shopper a variant; otherwise `auto`. Without a user id nobody can be
    assigned, so the control strategy answers and no exposure is claimed."""
    if query.strategy is not None:
        return StrategyChoice(query.strategy)
    if query.placement:
        chosen = await experiment_choice(
            session, tenant_id, query.placement, query.user_id, generation
        )
        if chosen is not None:
            return chosen
    return StrategyChoice("auto")


async def recommend(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    query: RecommendationQuery,
    looked_up: Lookup | None = None,
) -> bytes:
    """The JSON body of a recommendation list, from the cache or freshly computed.

    `looked_up` is the cache's answer when the caller already asked it (the lean handler).
    """
    parts = query.cache_parts()
    found = looked_up or await lookup(tenant_id, parts)
    count_lookup(query.strategy, hit=found is not None and found.body is not None)
    if found is not None and found.body is not None:
        return found.body
    model_version = found.model_version if found is not None else None
    generation = found.generation if found is not None else None
    listed, live = await _compute(session, tenant_id, query, model_version, generation)
    encoded = listed.model_dump_json().encode()
    if found is not None:
        settings = get_settings()
        ttl_s = settings.reco_live_cache_ttl_s if live else settings.reco_cache_ttl_s
        await store(tenant_id, parts, found.generation, encoded, ttl_s)
    return encoded


async def compute(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    query: RecommendationQuery,
    announced_version: int | None = None,
    generation: int | None = None,
) -> RecommendationList:
    """The list itself: strategy choice, model and live counts, live catalog filter.

    `generation`: the cache generation the caller read, if it did (lets the experiment
    choice answer from memory)."""
    listed, _ = await _compute(session, tenant_id, query, announced_version, generation)
    return listed


async def _compute(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    query: RecommendationQuery,
    announced_version: int | None,
    generation: int | None,
) -> tuple[RecommendationList, bool]:
    """`compute`, and whether the live counts took part (such lists are cached briefly)."""
    started = time.perf_counter()
    choice = await choose_strategy(session, tenant_id, query, generation)
    model = await model_registry().get(session, tenant_id, announced_version)
    ask = Ask(
        user_id=query.user_id,
        product_id=query.product_id,
        limit=query.limit,
        exclude=frozenset(query.exclude),
        recently_viewed=query.recently_viewed,
    )
    answered = await answer(session, tenant_id, choice.strategy, ask, model)
    items = (await describe_products(session, tenant_id, answered.found))[: query.limit]
    if answered.fallback is not None and len(items) < query.limit:
        shown = Ask(
            ask.user_id, ask.product_id, ask.k, ask.exclude | {i.product_id for i in items}, ()
        )
        extra = await describe_products(
            session, tenant_id, await in_stock(session, tenant_id, shown)
        )
        items += extra[: query.limit - len(items)]
    COMPUTE_SECONDS.labels(choice.strategy).observe(time.perf_counter() - started)
    listed = RecommendationList(
        data=items,
        strategy=choice.strategy,
        experiment_id=choice.experiment_id,
        variant=choice.variant,
        model_version=model.version if model is not None else None,
        fallback=answered.fallback,
    )
    return listed, answered.live
