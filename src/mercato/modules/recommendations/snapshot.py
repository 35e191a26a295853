"""What a fitted model must remember about the shop to answer a query on its own.

A model is loaded by a process that never saw the training data, so it keeps the
product index with the facts that filter and explain results (names, categories, whether
a product may be shown) and each shopper's purchases and latest products.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.modules.recommendations.event_log import BoolArray, FloatArray, StrArray
from mercato.modules.recommendations.interactions import (
    IntArray,
    InteractionData,
    positions,
)
from mercato.modules.recommendations.model_file import Arrays, pack_csr, unpack_csr
from mercato.modules.recommendations.neighbours import top_per_row

HISTORY_DEPTH = 20
"""How many of a shopper's latest products a model keeps to personalise a query."""


def _lookup(sorted_ids: StrArray, wanted: str | None) -> int:
    if not wanted:
        return -1
    return int(positions(sorted_ids, np.array([wanted], dtype=np.str_))[0])


@dataclass(frozen=True)
class CatalogSnapshot:
    """Product index and the facts that filter and explain results."""

    product_ids: StrArray
    labels: StrArray
    categories: StrArray
    recommendable: BoolArray
    created_at: FloatArray

    @classmethod
    def from_data(cls, data: InteractionData) -> CatalogSnapshot:
        products = data.products
        labels = np.where(products.name != "", products.name, products.product_id)
        return cls(
            product_ids=products.product_id,
            labels=labels,
            categories=products.category,
            recommendable=products.available & ~products.deleted,
            created_at=products.created_at,
        )

    @property
    def size(self) -> int:
        return int(self.product_ids.shape[0])

    def index(self, product_id: str | None) -> int:
        """Index of a product, -1 when unknown to this model."""
        return _lookup(self.product_ids, product_id)

    def indexes(self, product_ids: list[str]) -> IntArray:
        wanted = np.array(product_ids, dtype=np.str_)
        found = positions(self.product_ids, wanted) if wanted.size else wanted.astype(np.int64)
        return found[found >= 0]

    def to_arrays(self) -> Arrays:
        return {
            "catalog.product_ids": self.product_ids,
            "catalog.labels": self.labels,
            "catalog.categories": self.categories,
            "catalog.recommendable": self.recommendable,
            "catalog.created_at": self.created_at,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[Any]]) -> CatalogSnapshot:
        return cls(
            product_ids=arrays["catalog.product_ids"],
            labels=arrays["catalog.labels"],
            categories=arrays["catalog.categories"],
            recommendable=arrays["catalog.recommendable"],
            created_at=arrays["catalog.created_at"],
        )


@dataclass(frozen=True)
class ShopperHistory:
    """Each known shopper's purchases and latest products (most recent first)."""

    user_ids: StrArray
    purchased: sp.csr_matrix
    latest: sp.csr_matrix

    @classmethod
    def from_data(cls, data: InteractionData, depth: int = HISTORY_DEPTH) -> ShopperHistory:
        events = data.events
        order = np.lexsort((events.time, events.product, events.user))
        user, product, time = events.user[order], events.product[order], events.time[order]
        last = np.ones(user.size, dtype=np.bool_)
        last[:-1] = (user[1:] != user[:-1]) | (product[1:] != product[:-1])
        # Rank by time with a positive value so the newest is kept and listed first.
        seen_at = time[last] - (float(time.min()) if time.size else 0.0) + 1.0
        latest = sp.csr_matrix(
            (seen_at, (user[last], product[last])),
            shape=(data.user_count, data.product_count),
        )
        return cls(
            user_ids=data.user_ids,
            purchased=sp.csr_matrix(data.purchased, dtype=np.bool_),
            latest=top_per_row(latest, depth),
        )

    def index(self, user_id: str | None) -> int:
        """Index of a shopper, -1 when this model has never seen them."""
        return _lookup(self.user_ids, user_id)

    def latest_products(self, user: int) -> IntArray:
        if user < 0:
            return np.array([], dtype=np.int64)
        row = slice(self.latest.indptr[user], self.latest.indptr[user + 1])
        latest: IntArray = self.latest.indices[row].astype(np.int64)
        return latest

    def purchased_products(self, user: int) -> IntArray:
        if user < 0:
            return np.array([], dtype=np.int64)
        row = slice(self.purchased.indptr[user], self.purchased.indptr[user + 1])
        purchased: IntArray = self.purchased.indices[row].astype(np.int64)
        return purchased

    def to_arrays(self) -> Arrays:
        return {
            "shoppers.user_ids": self.user_ids,
            **pack_csr("shoppers.purchased", self.purchased),
            **pack_csr("shoppers.latest", self.latest),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[Any]]) -> ShopperHistory:
        return cls(
            user_ids=arrays["shoppers.user_ids"],
            purchased=unpack_csr(arrays, "shoppers.purchased"),
            latest=unpack_csr(arrays, "shoppers.latest"),
        )
