"""Neighbour lists: the precomputed top-N per product that make a query cost microseconds.

Every item-to-item strategy (co-views, similar text, bought together, trending per
category) fits a sparse similarity matrix, keeps the best N entries of each row sorted
best first, and at query time adds up the rows of the products in the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


PARTITION_CELLS = 8_000_000
"""Size of the padded block `_row_thresholds` partitions at once (64 MB of float64)."""


def _row_thresholds(csr: sp.csr_matrix, count: int) -> FloatArray:
    """The `count`-th largest value of each row (0 where a row has no more than
    `count` entries), found with `np.partition` on padded blocks of long rows: linear
    in the entries, where sorting them all would not be."""
    lengths = np.diff(csr.indptr)
    thresholds = np.zeros(csr.shape[0], dtype=np.float64)
    long_rows = np.flatnonzero(lengths > count)
    start = 0
    while start < long_rows.size:
        stop = start + 1
        widest = int(lengths[long_rows[start]])
        while stop < long_rows.size:
            wider = max(widest, int(lengths[long_rows[stop]]))
            if wider * (stop - start + 1) > PARTITION_CELLS:
                break
            widest, stop = wider, stop + 1
        rows = long_rows[start:stop]
        padded = np.full((rows.size, widest), -np.inf)
        row_lengths = lengths[rows]
        slot_row = np.repeat(np.arange(rows.size), row_lengths)
        firsts = np.repeat(csr.indptr[rows], row_lengths)
        slot = np.arange(slot_row.size) - np.repeat(
            np.cumsum(row_lengths) - row_lengths, row_lengths
        )
        padded[slot_row, slot] = csr.data[firsts + slot]
        thresholds[rows] = np.partition(padded, widest - count, axis=1)[:, widest - count]
        start = stop
    return thresholds


def top_per_row(matrix: sp.spmatrix | sp.sparray, count: int) -> sp.csr_matrix:
    """Keep the `count` largest positive entries of each row, sorted best first (ties:
    lower column first).

    Rows longer than `count` are first cut at their `count`-th value, so the final
    sort only sees about `count` entries per row. The matrix must not hold duplicate
    entries (anything built from COO triples through `csr_matrix` or a product is fine).
    """
    # scipy-stubs cannot match a sparse union to an overload; the call itself is plain.
    csr: sp.csr_matrix = sp.csr_matrix(cast(Any, matrix), dtype=np.float64, copy=True)
    csr.data[~(csr.data > 0)] = 0.0
    csr.eliminate_zeros()
    thresholds = _row_thresholds(csr, count)
    rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    candidate = csr.data >= thresholds[rows]
    rows, columns, values = rows[candidate], csr.indices[candidate], csr.data[candidate]
    order = np.lexsort((columns, -values, rows))
    starts = np.searchsorted(rows, np.arange(csr.shape[0]))
    rank = np.arange(order.size, dtype=np.int64) - starts[rows]
    keep = order[rank < count]
    lengths = np.minimum(np.bincount(rows, minlength=csr.shape[0]), count)
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    return sp.csr_matrix((values[keep], columns[keep].astype(np.int32), indptr), shape=csr.shape)


@dataclass(frozen=True)
class Spread:
    """Products reached from a set of sources, their summed score and, for each, the
    source that contributed most (what the reason names)."""

    products: IntArray
    scores: FloatArray
    best_source: IntArray

    @classmethod
    def empty(cls) -> Spread:
        nothing = np.array([], dtype=np.int64)
        return cls(nothing, np.array([], dtype=np.float64), nothing)

    def __len__(self) -> int:
        return int(self.products.shape[0])


def strongest_per_product(
    products: IntArray, contributions: FloatArray, sources: IntArray, *, total: bool
) -> Spread:
    """Group contributions by product: sum them (`total`) or keep the largest; either
    way remember the source of the largest one."""
    if products.size == 0:
        return Spread.empty()
    order = np.lexsort((-contributions, products))
    grouped = products[order]
    first = np.r_[True, grouped[1:] != grouped[:-1]]
    starts = np.flatnonzero(first)
    if total:
        scores = np.add.reduceat(contributions[order], starts)
    else:
        scores = contributions[order][starts]
    return Spread(grouped[starts], scores, sources[order][starts])


def spread(neighbours: sp.csr_matrix, sources: IntArray, weights: FloatArray) -> Spread:
    """Sum the neighbour rows of `sources`, each scaled by its weight."""
    if sources.size == 0:
        return Spread.empty()
    starts = neighbours.indptr[sources].astype(np.int64)
    lengths = neighbours.indptr[sources + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return Spread.empty()
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    entries = np.arange(total, dtype=np.int64) + offsets
    products = neighbours.indices[entries].astype(np.int64)
    contributions = neighbours.data[entries] * np.repeat(weights, lengths)
    return strongest_per_product(products, contributions, np.repeat(sources, lengths), total=True)


def recency_weights(count: int, exponent: float) -> FloatArray:
    """Weights for a context listed oldest first: the newest gets 1, the one before
    1/2**exponent, and so on, so the product on screen matters most."""
    steps_back = np.arange(count - 1, -1, -1, dtype=np.float64)
    return np.asarray((1.0 + steps_back) ** -exponent, dtype=np.float64)
