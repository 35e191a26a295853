"""Frequently bought together: association rules between products of the same order.

A rule A → B is kept when the pair was bought together often enough (count), when B
follows A often enough (confidence = P(B | A)) and when that is more than chance
(lift = confidence / P(B) above the threshold), so best-sellers do not pair with
everything. Purchases without an order id group by visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.modules.recommendations.interactions import InteractionData
from mercato.modules.recommendations.model_file import (
    Arrays,
    pack_csr,
    pack_settings,
    unpack_csr,
    unpack_settings,
)
from mercato.modules.recommendations.neighbours import spread, top_per_row
from mercato.modules.recommendations.strategies.base import Context, Shortlist, SingleSourceStrategy

BOUGHT_TOGETHER = "Frequently bought together with {}"


@dataclass(frozen=True)
class BoughtTogetherSettings:
    min_co_purchases: int = 2
    min_confidence: float = 0.05
    min_lift: float = 1.0
    max_basket_size: int = 50
    """Bigger baskets (bulk or B2B orders) would add quadratic noise; they are skipped."""
    neighbours: int = 50
    recency_exponent: float = 1.0


def association_rules(
    baskets: NDArray[Any],
    products: NDArray[Any],
    product_count: int,
    settings: BoughtTogetherSettings,
) -> sp.csr_matrix:
    """Products x products confidence of each kept rule, top `neighbours` per row."""
    empty = sp.csr_matrix((product_count, product_count), dtype=np.float64)
    if baskets.size == 0:
        return empty
    _, basket_rows = np.unique(baskets, return_inverse=True)
    contents = sp.csr_matrix(
        (np.ones(baskets.size), (basket_rows, products)),
        shape=(int(basket_rows.max()) + 1, product_count),
    )
    contents.sum_duplicates()
    contents.data[:] = 1.0
    sizes = np.diff(contents.indptr)
    contents = contents[(sizes >= 2) & (sizes <= settings.max_basket_size)]
    basket_count = contents.shape[0]
    if basket_count == 0:
        return empty
    bought = np.asarray(contents.sum(axis=0)).ravel()
    together = sp.coo_matrix(contents.T @ contents)
    pair = together.row != together.col
    first, second, count = together.row[pair], together.col[pair], together.data[pair]
    confidence = count / bought[first]
    lift = confidence * basket_count / bought[second]
    keep = (
        (count >= settings.min_co_purchases)
        & (confidence >= settings.min_confidence)
        & (lift > settings.min_lift)
    )
    rules = sp.csr_matrix(
        (confidence[keep], (first[keep], second[keep])), shape=(product_count, product_count)
    )
    return top_per_row(rules, settings.neighbours)


class BoughtTogetherStrategy(SingleSourceStrategy):
    name = "frequently_bought_together"

    def __init__(self, settings: BoughtTogetherSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or BoughtTogetherSettings()
        self._rules = sp.csr_matrix((0, 0))

    def _fit(self, data: InteractionData) -> None:
        purchase = data.events.basket >= 0
        self._rules = association_rules(
            data.events.basket[purchase],
            data.events.product[purchase],
            data.product_count,
            self.settings,
        )

    def shortlist(self, context: Context, k: int) -> Shortlist:
        """Complements of the product on screen and the visit's (or else the shopper's
        latest) products."""
        anchors, weights = context.anchors(self.shoppers, self.settings.recency_exponent)
        reached = spread(self._rules, anchors, weights)
        return Shortlist.from_spread(reached, BOUGHT_TOGETHER, self.catalog.labels)

    def model_arrays(self) -> Arrays:
        return {
            **pack_settings("bought_together", self.settings),
            **pack_csr("bought_together.rules", self._rules),
        }

    def restore(self, arrays: Arrays) -> None:
        self.settings = BoughtTogetherSettings(**unpack_settings(arrays, "bought_together"))
        self._rules = unpack_csr(arrays, "bought_together.rules")
