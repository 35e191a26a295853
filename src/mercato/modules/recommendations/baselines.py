"""The two yardsticks every evaluation computes in the same run as our strategies.

Most-popular (the same list for everyone) and plain `implicit` ALS, fitted on the same
training dataset, so a strategy's figure is always read next to what a simple method
scores on identical data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.modules.recommendations.interactions import IntArray, InteractionData
from mercato.modules.recommendations.strategies.taste_factors import TasteFactors, fit_als


def _best(scores: NDArray[Any], k: int) -> IntArray:
    """Indexes of the `k` highest finite scores, best first (ties: lower index)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size > k:
        finite = finite[np.argpartition(-scores[finite], k - 1)[:k]]
    best: IntArray = finite[np.lexsort((finite, -scores[finite]))].astype(np.int64)
    return best


class MostPopular:
    """Products ranked by how many interest events they had in training."""

    name = "most_popular"

    def __init__(self, data: InteractionData) -> None:
        counts = np.bincount(data.events.product, minlength=data.product_count)
        recommendable = data.products.available & ~data.products.deleted
        popular = np.flatnonzero(recommendable & (counts > 0))
        self._ranking = popular[np.lexsort((popular, -counts[popular]))]
        self._ids = data.products.product_id

    def top(self, k: int, blocked: IntArray | None = None) -> list[str]:
        ranking = self._ranking
        if blocked is not None and blocked.size:
            ranking = ranking[~np.isin(ranking, blocked)]
        return [str(product) for product in self._ids[ranking[:k]]]


class AlsBaseline:
    """`implicit` ALS as a practitioner would use it: a product's neighbours by cosine
    of item factors, a shopper's list by factor dot product minus what they touched."""

    name = "implicit_als"

    def __init__(
        self,
        data: InteractionData,
        user_items: sp.csr_matrix,
        *,
        factors: int = 100,
        iterations: int = 15,
        seed: int = 42,
        threads: int = 0,
    ) -> None:
        self._factors: TasteFactors = fit_als(
            user_items, factors=factors, iterations=iterations, seed=seed, threads=threads
        )
        norms = np.linalg.norm(self._factors.products, axis=1, keepdims=True)
        self._unit = self._factors.products / np.maximum(norms, 1e-12)
        self._user_items = sp.csr_matrix(user_items)
        self._hidden = ~(data.products.available & ~data.products.deleted)
        self._ids = data.products.product_id

    def similar(self, product: int, k: int, *, include_itself: bool = True) -> list[str]:
        if product < 0:
            return []
        scores = (self._unit @ self._unit[product]).astype(np.float64)
        scores[self._hidden] = -np.inf
        if not include_itself:
            scores[product] = -np.inf
        return [str(found) for found in self._ids[_best(scores, k)]]

    def for_user(self, user: int, k: int) -> list[str]:
        """implicit's default `recommend`: already-liked products filtered out."""
        scores = (self._factors.products @ self._factors.users[user]).astype(np.float64)
        liked = self._user_items.indices[
            self._user_items.indptr[user] : self._user_items.indptr[user + 1]
        ]
        scores[liked] = -np.inf
        scores[self._hidden] = -np.inf
        return [str(found) for found in self._ids[_best(scores, k)]]


def visit_matrix(data: InteractionData) -> sp.csr_matrix:
    """Visits x products, 1 where the visit touched the product (session-based ALS)."""
    sessions = data.events.session
    matrix = sp.csr_matrix(
        (np.ones(sessions.size, dtype=np.float32), (sessions, data.events.product)),
        shape=(int(sessions.max()) + 1 if sessions.size else 0, data.product_count),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def event_counts(data: InteractionData) -> sp.csr_matrix:
    """Shoppers x products, how many interest events (no weights, no decay)."""
    matrix = sp.csr_matrix(
        (np.ones(len(data.events), dtype=np.float32), (data.events.user, data.events.product)),
        shape=(data.user_count, data.product_count),
    )
    matrix.sum_duplicates()
    return matrix
