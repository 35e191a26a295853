"""Matrix factorisation with the `implicit` library's ALS, run within the machine's means.

Used by the collaborative strategy (user-to-item) and by the ALS baseline of the offline
evaluation, so both train the same way: fixed seed, implicit's own threads limited to
the cores this process may use, and BLAS kept single-threaded as implicit asks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

FactorArray = NDArray[np.float32]


def available_cores() -> int:
    """Cores this process may run on (the machine is shared; never more than that)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


@dataclass(frozen=True)
class TasteFactors:
    """One vector per shopper and per product; their dot product predicts interest."""

    users: FactorArray
    products: FactorArray


def fit_als(
    user_items: sp.csr_matrix,
    *,
    factors: int = 100,
    iterations: int = 15,
    regularization: float = 0.01,
    alpha: float = 1.0,
    seed: int = 42,
    threads: int = 0,
) -> TasteFactors:
    """Fit ALS on a shoppers x products confidence matrix (implicit's defaults unless
    told otherwise). An empty matrix yields zero-length factors rather than an error."""
    users, products = user_items.shape
    if user_items.nnz == 0:
        return TasteFactors(
            np.zeros((users, factors), dtype=np.float32),
            np.zeros((products, factors), dtype=np.float32),
        )
    with threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(
            factors=factors,
            iterations=iterations,
            regularization=regularization,
            alpha=alpha,
            random_state=seed,
            num_threads=threads or available_cores(),
        )
        model.fit(sp.csr_matrix(user_items, dtype=np.float32), show_progress=False)
    return TasteFactors(
        np.ascontiguousarray(model.user_factors, dtype=np.float32),
        np.ascontiguousarray(model.item_factors, dtype=np.float32),
    )
