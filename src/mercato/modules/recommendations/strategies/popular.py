"""Popular: the products with the most interest events over the whole history.

Not offered on its own through the API (trending is the decayed, per-category version);
`auto` weighs it as one of its sources, since on shops where best-sellers dominate (retail
invoices with little co-purchase signal) nothing beats plain popularity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mercato.modules.recommendations.interactions import InteractionData
from mercato.modules.recommendations.model_file import Arrays, pack_settings, unpack_settings
from mercato.modules.recommendations.strategies.base import Context, Shortlist, SingleSourceStrategy

POPULAR = "Popular in this shop"


@dataclass(frozen=True)
class PopularSettings:
    kept: int = 200


class PopularStrategy(SingleSourceStrategy):
    name = "popular"

    def __init__(self, settings: PopularSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or PopularSettings()
        self._products = np.array([], dtype=np.int64)
        self._counts = np.array([], dtype=np.float64)

    def _fit(self, data: InteractionData) -> None:
        counts = np.bincount(data.events.product, minlength=data.product_count)
        recommendable = data.products.available & ~data.products.deleted
        popular = np.flatnonzero(recommendable & (counts > 0))
        ranked = popular[np.lexsort((popular, -counts[popular]))][: self.settings.kept]
        self._products = ranked.astype(np.int64)
        self._counts = counts[ranked].astype(np.float64)

    def shortlist(self, context: Context, k: int) -> Shortlist:
        subjects = np.full(self._products.size, -1, dtype=np.int64)
        return Shortlist(self._products, self._counts, subjects, POPULAR, self.catalog.labels)

    def model_arrays(self) -> Arrays:
        return {
            **pack_settings("popular", self.settings),
            "popular.products": self._products,
            "popular.counts": self._counts,
        }

    def restore(self, arrays: Arrays) -> None:
        if "popular.settings" not in arrays:
            return  # a model fitted before auto had this source: it stays empty
        self.settings = PopularSettings(**unpack_settings(arrays, "popular"))
        self._products = arrays["popular.products"]
        self._counts = arrays["popular.counts"]
