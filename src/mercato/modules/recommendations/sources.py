"""Where a list comes from: the tenant's fitted model, the live counts, or a fallback.

- `frequently_bought_together` merges the live rules (`live`) with the model's, and
  `trending` ranks the live counts first (the same decayed velocity the model learnt,
  but up to date; next to a product, those of its category) above the model's list
  (which remembers what came before the live counts, and the category tree), so a
  purchase shows in them within seconds and a product created after the fit appears as
  soon as it is bought or viewed;
- `auto` (and the model strategies) answer from the model; the live counts step in where
  the model cannot fully answer: a product on screen the model never saw (its live
  complements come first) or a list shorter than asked (topped up with trending now);
- with no model at all (a new tenant before its first fit), `auto`, `collaborative` and
  `content_based` answer from the live counts (`fallback: "trending"`), and a shop with
  no events yet from its own products in stock, newest first (`fallback: "popular"`), so
  a shop with products in stock never answers an empty list.

Each source's scores are scaled to its best, so lists in different units merge; a
product keeps the higher score and its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.catalog import get_products
from mercato.modules.recommendations.live import LiveLists, read_live
from mercato.modules.recommendations.registry import LoadedModel
from mercato.modules.recommendations.schemas import StrategyName
from mercato.modules.recommendations.strategies import Recommendation
from mercato.modules.recommendations.strategies.bought_together import BOUGHT_TOGETHER
from mercato.modules.recommendations.strategies.newest import NEW_ARRIVAL
from mercato.modules.recommendations.strategies.trending import TRENDING_NOW

Fallback = Literal["trending", "popular"]
OVERFETCH = 2

IN_STOCK_SQL = text(
    """
    SELECT product_id FROM catalog_products
    WHERE tenant_id = :tenant_id AND deleted_at IS NULL AND available
    ORDER BY created_at DESC, product_id
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class Answer:
    found: list[Recommendation]
    fallback: Fallback | None = None
    live: bool = False
    """Whether the live counts were read (the list goes stale faster)."""


@dataclass(frozen=True)
class Ask:
    """The part of a query every source needs."""

    user_id: str | None
    product_id: str | None
    limit: int
    exclude: frozenset[str]
    recently_viewed: tuple[str, ...]

    @property
    def k(self) -> int:
        """How many to ask a source for, so products the live catalog says are gone (sold
        out or deleted since the model was fitted) can be dropped without a short list."""
        return self.limit * OVERFETCH

    @property
    def anchors(self) -> list[str]:
        """The products the query is about: this visit's and the one on screen."""
        ordered = [*self.recently_viewed, *([self.product_id] if self.product_id else [])]
        return list(dict.fromkeys(ordered))

    @property
    def blocked(self) -> set[str]:
        return {*self.exclude, *([self.product_id] if self.product_id else [])}


def merge(lists: Iterable[Sequence[Recommendation]], k: int) -> list[Recommendation]:
    """Each list scaled to its best score; per product the best; the `k` highest."""
    best: dict[str, Recommendation] = {}
    for items in lists:
        top = max((item.score for item in items), default=0.0)
        if top <= 0:
            continue
        for item in items:
            scaled = Recommendation(item.product_id, item.score / top, item.reason)
            known = best.get(item.product_id)
            if known is None or scaled.score > known.score:
                best[item.product_id] = scaled
    return sorted(best.values(), key=lambda item: (-item.score, item.product_id))[:k]


def append(first: list[Recommendation], then: Sequence[Recommendation], k: int) -> None:
    """Add `then` after `first` (below its lowest score) up to `k`, skipping repeats."""
    taken = {item.product_id for item in first}
    floor = min((item.score for item in first), default=1.0)
    top = max((item.score for item in then), default=0.0) or 1.0
    for item in then:
        if len(first) >= k:
            return
        if item.product_id not in taken:
            taken.add(item.product_id)
            first.append(
                Recommendation(item.product_id, floor * item.score / top / 2.0, item.reason)
            )


async def _rules(
    session: AsyncSession, tenant_id: uuid.UUID, live: LiveLists, ask: Ask
) -> list[Recommendation]:
    """The live association rules as recommendations, named after their anchor."""
    rules = [rule for rule in live.rules if rule.product_id not in ask.blocked]
    if not rules:
        return []
    anchors = await get_products(session, tenant_id, list({rule.anchor for rule in rules}))
    return [
        Recommendation(
            rule.product_id,
            rule.confidence,
            BOUGHT_TOGETHER.format(
                anchors[rule.anchor].name if rule.anchor in anchors else rule.anchor
            ),
        )
        for rule in rules
    ]


def _trending(live: LiveLists, ask: Ask) -> list[Recommendation]:
    return [
        Recommendation(product_id, weight, TRENDING_NOW)
        for product_id, weight in live.trending
        if product_id not in ask.blocked
    ]


async def _trending_near(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    hot: list[Recommendation],
    modelled: list[Recommendation],
    ask: Ask,
) -> list[Recommendation]:
    """Trending now first, then the model's list; next to a product, only what is hot in
    its category comes first (the model's list then goes up the category tree), and the
    rest of the shop's hot products after."""
    if ask.product_id is None or not hot:
        found = merge([hot], ask.k)
        append(found, modelled, ask.k)
        return found
    ids = [ask.product_id, *(item.product_id for item in hot)]
    snapshots = await get_products(session, tenant_id, ids)
    on_screen = snapshots.get(ask.product_id)
    category = on_screen.category if on_screen is not None else None

    def near(item: Recommendation) -> bool:
        found = snapshots.get(item.product_id)
        return category is not None and found is not None and found.category == category

    first = merge([[item for item in hot if near(item)]], ask.k)
    append(first, modelled, ask.k)
    append(first, [item for item in hot if not near(item)], ask.k)
    return first


async def in_stock(session: AsyncSession, tenant_id: uuid.UUID, ask: Ask) -> list[Recommendation]:
    """The shop's own products in stock, newest first (what a shop without events shows)."""
    rows = await session.scalars(
        IN_STOCK_SQL, {"tenant_id": tenant_id, "limit": ask.k + len(ask.blocked)}
    )
    products = [product_id for product_id in rows if product_id not in ask.blocked]
    count = len(products)
    return [
        Recommendation(product_id, float(count - position), NEW_ARRIVAL)
        for position, product_id in enumerate(products)
    ]


def _from_model(model: LoadedModel, strategy: StrategyName, ask: Ask) -> list[Recommendation]:
    return model.strategy(strategy).recommend(
        user_id=ask.user_id,
        product_id=ask.product_id,
        k=ask.k,
        exclude=ask.exclude,
        recently_viewed=ask.recently_viewed,
    )


async def answer(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    strategy: StrategyName,
    ask: Ask,
    model: LoadedModel | None,
) -> Answer:
    """The ranked product ids (not yet checked against the live catalog) for one query.

    With a fallback set, the caller tops the described list up with `in_stock`.
    """
    modelled = _from_model(model, strategy, ask) if model is not None else []
    if strategy == "frequently_bought_together":
        if not ask.anchors:
            return Answer(modelled)
        live = await read_live(tenant_id, ask.anchors, ask.k, trending=False)
        rules = await _rules(session, tenant_id, live, ask)
        return Answer(merge([modelled, rules], ask.k), live=True)
    if strategy == "trending":
        live = await read_live(tenant_id, [], ask.k, trending=True)
        found = await _trending_near(session, tenant_id, _trending(live, ask), modelled, ask)
        if found or model is not None:
            return Answer(found, live=True)
        return Answer([], "popular", live=True)
    if model is None:
        return await _without_model(session, tenant_id, strategy, ask)
    unknown = ask.product_id is not None and model.auto.catalog.index(ask.product_id) < 0
    if strategy != "auto" or (len(modelled) >= ask.limit and not unknown):
        return Answer(modelled)
    live = await read_live(tenant_id, ask.anchors, ask.k, trending=True)
    if unknown:
        found = merge([await _rules(session, tenant_id, live, ask)], ask.k)
        append(found, modelled, ask.k)
    else:
        found = list(modelled)
    append(found, _trending(live, ask), ask.k)
    return Answer(found, live=True)


async def _without_model(
    session: AsyncSession, tenant_id: uuid.UUID, strategy: StrategyName, ask: Ask
) -> Answer:
    anchors = ask.anchors if strategy == "auto" else []
    live = await read_live(tenant_id, anchors, ask.k, trending=True)
    found = merge([await _rules(session, tenant_id, live, ask)], ask.k)
    append(found, _trending(live, ask), ask.k)
    return Answer(found, "trending" if found else "popular", live=True)
