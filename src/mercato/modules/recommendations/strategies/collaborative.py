"""Collaborative filtering: what other shoppers' behaviour says goes together.

Two views of the same implicit feedback. Item-to-item from session co-views answers
product pages and anything with a browsing context (session-aware: every product of the
visit contributes, the newest most). User-to-item with ALS answers "for you" placements
where only the shopper is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mercato.modules.recommendations.interactions import InteractionData
from mercato.modules.recommendations.model_file import (
    Arrays,
    pack_csr,
    pack_settings,
    unpack_csr,
    unpack_settings,
)
from mercato.modules.recommendations.neighbours import spread
from mercato.modules.recommendations.strategies.base import Context, Shortlist, SingleSourceStrategy
from mercato.modules.recommendations.strategies.co_views import co_view_neighbours
from mercato.modules.recommendations.strategies.taste_factors import fit_als

CO_VIEWED = "Often viewed together with {}"
TASTE = "Based on your interest in {}"


@dataclass(frozen=True)
class CollaborativeSettings:
    """Co-view window and weighting, and the ALS hyper-parameters."""

    window: int = 5
    backward_weight: float = 0.5
    popularity_damping: float = 0.75
    neighbours: int = 100
    recency_exponent: float = 1.0
    factors: int = 64
    iterations: int = 15
    regularization: float = 0.01
    seed: int = 42
    threads: int = 0


class CollaborativeStrategy(SingleSourceStrategy):
    name = "collaborative"

    def __init__(self, settings: CollaborativeSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or CollaborativeSettings()
        self._co_views = sp.csr_matrix((0, 0))
        self._user_factors = np.zeros((0, 0), dtype=np.float32)
        self._product_factors = np.zeros((0, 0), dtype=np.float32)

    def _fit(self, data: InteractionData) -> None:
        settings = self.settings
        self._co_views = co_view_neighbours(
            data.events,
            data.product_count,
            window=settings.window,
            backward_weight=settings.backward_weight,
            popularity_damping=settings.popularity_damping,
            neighbours=settings.neighbours,
        )
        factors = fit_als(
            data.user_items,
            factors=settings.factors,
            iterations=settings.iterations,
            regularization=settings.regularization,
            seed=settings.seed,
            threads=settings.threads,
        )
        self._user_factors, self._product_factors = factors.users, factors.products

    def shortlist(self, context: Context, k: int) -> Shortlist:
        if context.session.size:
            return self.co_viewed(context)
        return self.for_shopper(context, k)

    def co_viewed(self, context: Context) -> Shortlist:
        """Products co-viewed with this visit's (or else the shopper's latest) products."""
        anchors, weights = context.anchors(self.shoppers, self.settings.recency_exponent)
        reached = spread(self._co_views, anchors, weights)
        return Shortlist.from_spread(reached, CO_VIEWED, self.catalog.labels)

    def knows(self, product: int) -> bool:
        """Whether the product has co-views at all (a new product has none)."""
        return product >= 0 and self._co_views.indptr[product + 1] > self._co_views.indptr[product]

    def for_shopper(self, context: Context, k: int) -> Shortlist:
        """ALS scores for a known shopper; the reason names the product of their recent
        history whose taste vector is closest to the recommended one."""
        if context.user < 0 or context.user >= self._user_factors.shape[0]:
            return Shortlist.empty()
        scores = self._product_factors @ self._user_factors[context.user]
        everything = np.arange(scores.shape[0], dtype=np.int64)
        candidates = everything[context.allowed(everything, self.catalog) & (scores > 0)]
        if candidates.size > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        history = self.shoppers.latest_products(context.user)
        if history.size:
            closeness = self._product_factors[candidates] @ self._product_factors[history].T
            subjects = history[np.argmax(closeness, axis=1)]
        else:
            subjects = np.full(candidates.size, -1, dtype=np.int64)
        template = TASTE if history.size else "Recommended for you"
        return Shortlist(
            candidates,
            scores[candidates].astype(np.float64),
            subjects,
            template,
            self.catalog.labels,
        )

    def model_arrays(self) -> Arrays:
        return {
            **pack_settings("collaborative", self.settings),
            **pack_csr("collaborative.co_views", self._co_views),
            "collaborative.user_factors": self._user_factors,
            "collaborative.product_factors": self._product_factors,
        }

    def restore(self, arrays: Arrays) -> None:
        self.settings = CollaborativeSettings(**unpack_settings(arrays, "collaborative"))
        self._co_views = unpack_csr(arrays, "collaborative.co_views")
        self._user_factors = arrays["collaborative.user_factors"]
        self._product_factors = arrays["collaborative.product_factors"]
