"""Trending: what shoppers are viewing and buying fastest right now, overall and per
category.

Velocity is a decayed event rate with a short half-life (days, not the month the other
strategies use), purchases counting more than views. Each category node of the path
(`Furniture`, `Furniture > Sofas`) keeps its own top list, so "trending in Sofas" is a
lookup; a thin category is topped up from its parents, ranked after its own products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.modules.recommendations.event_log import CATEGORY_SEPARATOR, StrArray
from mercato.modules.recommendations.interactions import (
    IntArray,
    InteractionData,
    decay,
)
from mercato.modules.recommendations.model_file import (
    Arrays,
    pack_csr,
    pack_settings,
    unpack_csr,
    unpack_settings,
)
from mercato.modules.recommendations.neighbours import Spread, strongest_per_product, top_per_row
from mercato.modules.recommendations.strategies.base import Context, Shortlist, SingleSourceStrategy

TRENDING_NOW = "Trending now"


@dataclass(frozen=True)
class TrendingSettings:
    half_life_days: float = 3.0
    view_weight: float = 1.0
    cart_weight: float = 3.0
    purchase_weight: float = 10.0
    per_category: int = 100
    parent_discount: float = 0.5


def category_tree(paths: StrArray) -> tuple[StrArray, IntArray, IntArray]:
    """Category nodes (every prefix of every path, node 0 = the whole shop), each
    node's parent (-1 for the root) and each path's own node."""
    unique_paths, path_of_row = np.unique(paths, return_inverse=True)
    nodes: dict[str, int] = {"": 0}
    parents = [-1]
    for path in unique_paths.tolist():
        levels = path.split(CATEGORY_SEPARATOR) if path else []
        parent = 0
        for depth in range(len(levels)):
            prefix = CATEGORY_SEPARATOR.join(levels[: depth + 1])
            if prefix not in nodes:
                nodes[prefix] = len(nodes)
                parents.append(parent)
            parent = nodes[prefix]
    names = np.array(list(nodes), dtype=np.str_)
    own_node = np.array([nodes[path] for path in unique_paths.tolist()], dtype=np.int64)
    return names, np.asarray(parents, dtype=np.int64), own_node[path_of_row]


class TrendingStrategy(SingleSourceStrategy):
    name = "trending"

    def __init__(self, settings: TrendingSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or TrendingSettings()
        self._lists = sp.csr_matrix((0, 0))
        self._parents = np.array([], dtype=np.int64)
        self._product_node = np.array([], dtype=np.int64)
        self._headlines = np.array([], dtype=np.str_)

    def _fit(self, data: InteractionData) -> None:
        settings, events = self.settings, data.events
        signal_weights = np.array(
            [settings.view_weight, settings.cart_weight, settings.purchase_weight]
        )
        per_day = np.log(2.0) / settings.half_life_days
        rate = signal_weights[events.signal] * decay(
            data.now - events.time, settings.half_life_days
        )
        velocity = np.bincount(events.product, weights=rate * per_day, minlength=data.product_count)
        names, parents, product_node = category_tree(data.products.category)
        recommendable = data.products.available & ~data.products.deleted
        levels = [product_node]
        while (levels[-1] > 0).any():
            levels.append(np.maximum(parents[levels[-1]], 0))
        member_node = np.stack(levels)
        # Products nearer the root reach node 0 early; count them there only once.
        first_visit = np.vstack(
            [np.ones_like(levels[0], dtype=np.bool_), member_node[1:] != member_node[:-1]]
        )
        member_product = np.broadcast_to(np.arange(data.product_count), member_node.shape)
        membership = sp.csr_matrix(
            (
                (velocity * recommendable)[member_product[first_visit]],
                (member_node[first_visit], member_product[first_visit]),
            ),
            shape=(names.shape[0], data.product_count),
        )
        self._lists = top_per_row(membership, settings.per_category)
        self._parents, self._product_node = parents, product_node
        leaf_names = [name.split(CATEGORY_SEPARATOR)[-1] for name in names.tolist()]
        self._headlines = np.array(
            [TRENDING_NOW, *(f"Trending in {leaf}" for leaf in leaf_names[1:])], dtype=np.str_
        )

    def shortlist(self, context: Context, k: int) -> Shortlist:
        node = int(self._product_node[context.product]) if context.product >= 0 else 0
        return self.in_category(node)

    def category_of(self, product: int) -> int:
        """The product's own category node; 0 (the whole shop) when it has none."""
        return int(self._product_node[product]) if product >= 0 else 0

    def in_category(self, node: int) -> Shortlist:
        """Trending in `node` first, then in each parent below everything before it.

        Each parent's list is scaled under `parent_discount` times the lowest score
        already listed, so a sofa page shows trending sofas before the whole shop's
        best-seller, however fast that one sells.
        """
        products: list[IntArray] = []
        scores: list[NDArray[Any]] = []
        sources: list[IntArray] = []
        floor = np.inf
        while node >= 0:
            row = slice(self._lists.indptr[node], self._lists.indptr[node + 1])
            velocity = self._lists.data[row]
            if velocity.size:
                scale = min(1.0, floor * self.settings.parent_discount / velocity.max())
                products.append(self._lists.indices[row].astype(np.int64))
                scores.append(velocity * scale)
                sources.append(np.full(velocity.size, node, dtype=np.int64))
                floor = min(floor, float(scores[-1].min()))
            node = int(self._parents[node])
        if not products:
            return Shortlist.empty()
        reached: Spread = strongest_per_product(
            np.concatenate(products), np.concatenate(scores), np.concatenate(sources), total=False
        )
        return Shortlist.from_spread(reached, "{}", self._headlines)

    def model_arrays(self) -> Arrays:
        return {
            **pack_settings("trending", self.settings),
            **pack_csr("trending.lists", self._lists),
            "trending.parents": self._parents,
            "trending.product_node": self._product_node,
            "trending.headlines": self._headlines,
        }

    def restore(self, arrays: Arrays) -> None:
        self.settings = TrendingSettings(**unpack_settings(arrays, "trending"))
        self._lists = unpack_csr(arrays, "trending.lists")
        self._parents = arrays["trending.parents"]
        self._product_node = arrays["trending.product_node"]
        self._headlines = arrays["trending.headlines"]
