"""Newest available products: what a shop with no behaviour yet can still show."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mercato.modules.recommendations.interactions import InteractionData
from mercato.modules.recommendations.model_file import Arrays, pack_settings, unpack_settings
from mercato.modules.recommendations.strategies.base import Context, Shortlist, SingleSourceStrategy

NEW_ARRIVAL = "New arrival"


@dataclass(frozen=True)
class NewestSettings:
    kept: int = 500


class NewestStrategy(SingleSourceStrategy):
    name = "newest"

    def __init__(self, settings: NewestSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or NewestSettings()
        self._order = np.array([], dtype=np.int64)

    def _fit(self, data: InteractionData) -> None:
        products = data.products
        recommendable = np.flatnonzero(products.available & ~products.deleted)
        created = np.nan_to_num(products.created_at[recommendable], nan=-np.inf)
        newest_first = recommendable[np.lexsort((recommendable, -created))]
        self._order = newest_first[: self.settings.kept].astype(np.int64)

    def shortlist(self, context: Context, k: int) -> Shortlist:
        """Newest first; scores fall from 1 so they blend below any behavioural signal."""
        scores = 1.0 / (1.0 + np.arange(self._order.size, dtype=np.float64))
        subjects = np.full(self._order.size, -1, dtype=np.int64)
        return Shortlist(self._order, scores, subjects, NEW_ARRIVAL, self.catalog.labels)

    def model_arrays(self) -> Arrays:
        return {**pack_settings("newest", self.settings), "newest.order": self._order}

    def restore(self, arrays: Arrays) -> None:
        self.settings = NewestSettings(**unpack_settings(arrays, "newest"))
        self._order = arrays["newest.order"]
