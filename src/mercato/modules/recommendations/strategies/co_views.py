"""Session co-occurrence: which products shoppers look at around each other.

Within one visit, a product viewed right after another is strong evidence the two
belong together, one viewed five clicks later weaker: each pair counts 1/distance, times
the (decayed, signal-weighted) strength of both events. Pairs count forwards in full and
backwards partly, because what shoppers open *next* predicts the next click best.
Scores are then damped by popularity so best-sellers do not become everyone's neighbour.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.modules.recommendations.interactions import ProductEvents
from mercato.modules.recommendations.neighbours import top_per_row


def co_view_neighbours(
    events: ProductEvents,
    product_count: int,
    *,
    window: int,
    backward_weight: float,
    popularity_damping: float,
    neighbours: int,
) -> sp.csr_matrix:
    """Top `neighbours` co-viewed products per product, best first.

    `popularity_damping` (0 to 1) splits the normalisation between the source product's
    total (ranking within a row is unaffected) and the neighbour's (penalises products
    that follow everything).
    """
    earlier: list[NDArray[Any]] = []
    later: list[NDArray[Any]] = []
    strength: list[NDArray[Any]] = []
    for distance in range(1, window + 1):
        same_visit = events.session[distance:] == events.session[:-distance]
        first = events.product[:-distance][same_visit]
        second = events.product[distance:][same_visit]
        pair = np.sqrt(events.weight[:-distance][same_visit] * events.weight[distance:][same_visit])
        earlier += [first, second]
        later += [second, first]
        strength += [pair / distance, backward_weight * pair / distance]
    if not earlier or sum(part.size for part in earlier) == 0:
        return sp.csr_matrix((product_count, product_count), dtype=np.float64)
    counts = sp.csr_matrix(
        (np.concatenate(strength), (np.concatenate(earlier), np.concatenate(later))),
        shape=(product_count, product_count),
    )
    counts.sum_duplicates()
    outgoing = np.asarray(counts.sum(axis=1)).ravel()
    incoming = np.asarray(counts.sum(axis=0)).ravel()
    with np.errstate(divide="ignore"):
        row_scale = np.where(outgoing > 0, outgoing**-popularity_damping, 0.0)
        column_scale = np.where(incoming > 0, incoming ** -(1.0 - popularity_damping), 0.0)
    similarity = sp.diags(row_scale) @ counts @ sp.diags(column_scale)
    return top_per_row(similarity, neighbours)
