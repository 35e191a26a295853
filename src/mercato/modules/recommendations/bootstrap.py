"""Confidence intervals by resampling whole sessions (the positions of one session are
not independent), paired: every method is scored on the same resamples, so the
interval of a difference says whether two methods differ beyond noise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
RESAMPLES = 1_000
SEED = 42
CHUNK = 50


def session_totals(values: FloatArray, sessions: NDArray[Any], count: int) -> FloatArray:
    """Per-position values summed per session."""
    return np.bincount(sessions, weights=values, minlength=count).astype(np.float64)


def resampled_means(
    totals: FloatArray, sizes: FloatArray, *, resamples: int = RESAMPLES, seed: int = SEED
) -> FloatArray:
    """Means over positions of `resamples` session resamples, one row per resample.

    `totals` is sessions x measures (per-session sums), `sizes` the positions per
    session. The same `seed` draws the same resamples, which pairs the measures.
    """
    rng = np.random.default_rng(seed)
    count = sizes.shape[0]
    means = np.empty((resamples, totals.shape[1]))
    for first in range(0, resamples, CHUNK):
        rows = min(CHUNK, resamples - first)
        drawn = rng.integers(0, count, size=(rows, count))
        cells = (drawn + np.arange(rows)[:, None] * count).ravel()
        picks = np.bincount(cells, minlength=rows * count).reshape(rows, count).astype(float)
        means[first : first + rows] = (picks @ totals) / np.maximum(picks @ sizes, 1.0)[:, None]
    return means


def interval(samples: FloatArray) -> tuple[float, float]:
    """The central 95 % of resampled values."""
    low, high = np.percentile(samples, [2.5, 97.5])
    return float(low), float(high)


def verdict(low: float, high: float) -> str:
    """`better` / `worse` when the interval of a difference excludes 0, otherwise
    `within noise`."""
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "within noise"


@dataclass(frozen=True)
class Difference:
    """`method` minus `against` on one measure, with its 95 % interval."""

    method: str
    against: str
    measure: str
    difference: float
    low: float
    high: float
    verdict: str


def difference(
    method: str, against: str, measure: str, point: float, samples: FloatArray
) -> Difference:
    low, high = interval(samples)
    return Difference(method, against, measure, point, low, high, verdict(low, high))
