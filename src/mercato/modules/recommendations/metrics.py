"""Ranking quality measures for one ranked list against what the shopper went on to do.

Binary relevance throughout: a recommended product is relevant if the shopper later
interacted with it. `k` cuts the list; products ranked beyond it count as not shown.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field


def hit(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1 if any of the top `k` is relevant (HR@K)."""
    return 1.0 if any(product in relevant for product in ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1/rank of the first relevant product in the top `k`, else 0 (MRR@K per query)."""
    for rank, product in enumerate(ranked[:k], start=1):
        if product in relevant:
            return 1.0 / rank
    return 0.0


def ndcg(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Discounted gain of the top `k` over the best possible for this many relevant."""
    if not relevant:
        return 0.0
    gain = sum(
        1.0 / math.log2(rank + 1)
        for rank, product in enumerate(ranked[:k], start=1)
        if product in relevant
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return gain / ideal


def average_precision(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Mean of precision@i at each relevant rank i ≤ k, over min(|relevant|, k) (AP@K)."""
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for rank, product in enumerate(ranked[:k], start=1):
        if product in relevant:
            found += 1
            total += found / rank
    return total / min(len(relevant), k)


@dataclass
class RankingTally:
    """Running sums over queries; `coverage` is the share of the catalog ever shown."""

    k: int
    catalog_size: int
    queries: int = 0
    hits: float = 0.0
    reciprocal_ranks: float = 0.0
    gains: float = 0.0
    precisions: float = 0.0
    shown: set[str] = field(default_factory=set)

    def add(self, ranked: Sequence[str], relevant: Collection[str]) -> None:
        top = ranked[: self.k]
        self.queries += 1
        self.hits += hit(top, relevant, self.k)
        self.reciprocal_ranks += reciprocal_rank(top, relevant, self.k)
        self.gains += ndcg(top, relevant, self.k)
        self.precisions += average_precision(top, relevant, self.k)
        self.shown.update(top)

    def _mean(self, total: float) -> float:
        return total / self.queries if self.queries else 0.0

    @property
    def hit_rate(self) -> float:
        return self._mean(self.hits)

    @property
    def mrr(self) -> float:
        return self._mean(self.reciprocal_ranks)

    @property
    def ndcg(self) -> float:
        return self._mean(self.gains)

    @property
    def map(self) -> float:
        return self._mean(self.precisions)

    @property
    def coverage(self) -> float:
        return len(self.shown) / self.catalog_size if self.catalog_size else 0.0
