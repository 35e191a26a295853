"""Auto: one blend of every strategy, choosing sources by what the query knows.

- a product on screen (or products viewed this visit): co-views, complements bought
  together, similar products (the main source for a new product nobody has viewed yet),
  what is trending in its category (weighted up for a new shopper), what is popular in
  the whole shop and the visit's own products (shoppers go back to them); the weights
  of these are chosen per tenant at fit time (see `auto_tuning`);
- only a known shopper: their ALS taste, co-views and complements of their latest
  products, similar products;
- whatever is missing up to `k` is filled with trending in the category, trending
  overall and, for a shop without any behaviour yet, the newest available products.

Each source's scores are scaled to its best candidate and weighted, so sources with
different units blend; every item keeps the reason of the source that weighed most.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mercato.modules.recommendations.interactions import InteractionData
from mercato.modules.recommendations.model_file import Arrays, pack_settings, unpack_settings
from mercato.modules.recommendations.neighbours import strongest_per_product
from mercato.modules.recommendations.snapshot import CatalogSnapshot, ShopperHistory
from mercato.modules.recommendations.strategies.base import (
    Context,
    Recommendation,
    Shortlist,
    Strategy,
)
from mercato.modules.recommendations.strategies.bought_together import BoughtTogetherStrategy
from mercato.modules.recommendations.strategies.collaborative import CollaborativeStrategy
from mercato.modules.recommendations.strategies.content_based import ContentBasedStrategy
from mercato.modules.recommendations.strategies.newest import NewestStrategy
from mercato.modules.recommendations.strategies.popular import PopularStrategy
from mercato.modules.recommendations.strategies.trending import TrendingStrategy
from mercato.modules.recommendations.strategies.visit_history import on_screen, viewed_earlier

Weighted = list[tuple[Shortlist, float]]
Named = list[tuple[str, Shortlist]]


@dataclass(frozen=True)
class AutoSettings:
    """Blend weights; a weight is applied to scores scaled so each source's best is 1.

    The defaults serve a model fitted on too little data to choose; otherwise the
    weights of the sources a visit uses are chosen per tenant on its latest days."""

    co_viewed: float = 1.0
    bought_together: float = 0.6
    similar: float = 0.3
    similar_for_new_product: float = 1.0
    category_trending: float = 0.1
    category_trending_for_new_shopper: float = 0.5
    taste: float = 1.0
    history_co_viewed: float = 0.7
    history_bought_together: float = 0.5
    history_similar: float = 0.2
    popular: float = 0.0
    on_screen: float = 0.0
    viewed_earlier: float = 0.0
    recency_exponent: float = 1.0


class AutoStrategy(Strategy):
    name = "auto"

    def __init__(
        self,
        settings: AutoSettings | None = None,
        *,
        collaborative: CollaborativeStrategy | None = None,
        content_based: ContentBasedStrategy | None = None,
        trending: TrendingStrategy | None = None,
        bought_together: BoughtTogetherStrategy | None = None,
        newest: NewestStrategy | None = None,
        popular: PopularStrategy | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or AutoSettings()
        self.collaborative = collaborative or CollaborativeStrategy()
        self.content_based = content_based or ContentBasedStrategy()
        self.trending = trending or TrendingStrategy()
        self.bought_together = bought_together or BoughtTogetherStrategy()
        self.newest = newest or NewestStrategy()
        self.popular = popular or PopularStrategy()

    @property
    def parts(self) -> tuple[Strategy, ...]:
        return (
            self.collaborative,
            self.content_based,
            self.trending,
            self.bought_together,
            self.newest,
            self.popular,
        )

    def attach(self, catalog: CatalogSnapshot, shoppers: ShopperHistory) -> None:
        super().attach(catalog, shoppers)
        for part in self.parts:
            part.attach(catalog, shoppers)

    def _fit(self, data: InteractionData) -> None:
        for part in self.parts:
            part._fit(data)

    def sources(self, context: Context, k: int) -> Weighted:
        """The weighted shortlists this query blends (see the module docstring)."""
        weights = self.settings
        if context.session.size:
            return [
                (shortlist, getattr(weights, name))
                for name, shortlist in self.visit_sources(context, k, weighted_only=True)
            ]
        if context.user >= 0:
            return [
                (self.collaborative.for_shopper(context, k), weights.taste),
                (self.collaborative.co_viewed(context), weights.history_co_viewed),
                (self.bought_together.shortlist(context, k), weights.history_bought_together),
                (self.content_based.shortlist(context, k), weights.history_similar),
            ]
        return []

    def visit_sources(self, context: Context, k: int, *, weighted_only: bool = False) -> Named:
        """A visit's shortlists, each named by the `AutoSettings` field weighing it;
        `weighted_only` skips computing those the settings weigh 0."""
        new_product = context.product >= 0 and not self.collaborative.knows(context.product)
        labels = self.catalog.labels
        exponent = self.settings.recency_exponent
        makers: list[tuple[str, Callable[[], Shortlist]]] = [
            ("co_viewed", lambda: self.collaborative.co_viewed(context)),
            ("bought_together", lambda: self.bought_together.shortlist(context, k)),
            (
                "similar_for_new_product" if new_product else "similar",
                lambda: self.content_based.shortlist(context, k),
            ),
            ("popular", lambda: self.popular.shortlist(context, k)),
            ("on_screen", lambda: on_screen(context, labels)),
            ("viewed_earlier", lambda: viewed_earlier(context, labels, exponent)),
        ]
        category = self.trending.category_of(context.product)
        if category > 0:
            trending = (
                "category_trending_for_new_shopper"
                if context.is_new_shopper
                else "category_trending"
            )
            makers.append((trending, lambda: self.trending.in_category(category)))
        return [
            (name, make())
            for name, make in makers
            if not weighted_only or getattr(self.settings, name) > 0
        ]

    def fallbacks(self, context: Context) -> list[Shortlist]:
        """What fills the list when the blend has fewer than `k`, in this order."""
        category = self.trending.category_of(context.product)
        lists = [self.trending.in_category(category)] if category > 0 else []
        return [*lists, self.trending.in_category(0), self.newest.shortlist(context, 0)]

    def rank(self, context: Context, k: int) -> list[Recommendation]:
        chosen = self._blend(self.sources(context, k), context, k)
        for fallback in self.fallbacks(context):
            if len(chosen) >= k:
                break
            floor = min((item.score for item in chosen), default=1.0)
            taken = {item.product_id for item in chosen}
            extra = [
                item
                for item in self._blend([(fallback, 1.0)], context, k)
                if item.product_id not in taken
            ][: k - len(chosen)]
            chosen += [
                Recommendation(item.product_id, floor * item.score / 2.0, item.reason)
                for item in extra
            ]
        return chosen

    def _blend(self, sources: Weighted, context: Context, k: int) -> list[Recommendation]:
        usable: Weighted = []
        for shortlist, weight in sources:
            if weight <= 0 or len(shortlist) == 0:
                continue
            allowed = shortlist.only(context.allowed(shortlist.products, self.catalog))
            if len(allowed) and allowed.scores.max() > 0:
                usable.append((allowed, weight))
        if not usable:
            return []
        contributions = np.concatenate(
            [shortlist.scores / shortlist.scores.max() * weight for shortlist, weight in usable]
        )
        products = np.concatenate([shortlist.products for shortlist, _ in usable])
        origins = np.arange(products.size, dtype=np.int64)
        blended = strongest_per_product(products, contributions, origins, total=True)
        best = Shortlist(
            blended.products, blended.scores, blended.best_source, "", self.catalog.labels
        ).best(k)
        offsets = np.cumsum([0, *(len(shortlist) for shortlist, _ in usable)])
        ids = self.catalog.product_ids
        ranked = []
        for product, score, origin in zip(best.products, best.scores, best.subjects, strict=True):
            source = int(np.searchsorted(offsets, origin, side="right")) - 1
            position = int(origin - offsets[source])
            reason = usable[source][0].reason(position)
            ranked.append(Recommendation(str(ids[product]), float(score), reason))
        return ranked

    def model_arrays(self) -> Arrays:
        arrays: Arrays = dict(pack_settings("auto", self.settings))
        for part in self.parts:
            arrays.update(part.model_arrays())
        return arrays

    def restore(self, arrays: Arrays) -> None:
        self.settings = AutoSettings(**unpack_settings(arrays, "auto"))
        for part in self.parts:
            part.restore(arrays)
