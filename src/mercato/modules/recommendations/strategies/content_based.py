"""Content-based: products described like the ones the shopper is looking at.

Needs no behaviour at all, which makes it the answer for a product nobody has viewed
yet (a new product) and for catalogs too young to have co-views.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from mercato.modules.recommendations.strategies.text_profiles import (
    similar_products,
    term_counts,
    tfidf,
)

SIMILAR = "Similar to {}"


@dataclass(frozen=True)
class ContentSettings:
    neighbours: int = 50
    recency_exponent: float = 1.0


class ContentBasedStrategy(SingleSourceStrategy):
    name = "content_based"

    def __init__(self, settings: ContentSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or ContentSettings()
        self._similar = sp.csr_matrix((0, 0))

    def _fit(self, data: InteractionData) -> None:
        profiles = tfidf(term_counts(data.products))
        self._similar = similar_products(profiles, self.settings.neighbours)

    def shortlist(self, context: Context, k: int) -> Shortlist:
        """Products similar to this visit's (or the shopper's latest) products."""
        anchors, weights = context.anchors(self.shoppers, self.settings.recency_exponent)
        reached = spread(self._similar, anchors, weights)
        return Shortlist.from_spread(reached, SIMILAR, self.catalog.labels)

    def model_arrays(self) -> Arrays:
        return {
            **pack_settings("content_based", self.settings),
            **pack_csr("content_based.similar", self._similar),
        }

    def restore(self, arrays: Arrays) -> None:
        self.settings = ContentSettings(**unpack_settings(arrays, "content_based"))
        self._similar = unpack_csr(arrays, "content_based.similar")
