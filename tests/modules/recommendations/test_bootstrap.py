from __future__ import annotations

import numpy as np
import pytest

from mercato.modules.recommendations.bootstrap import (
    difference,
    interval,
    resampled_means,
    session_totals,
    verdict,
)


def _means(per_position: list[list[float]], sessions: list[int]) -> np.ndarray:
    session = np.asarray(sessions)
    count = int(session.max()) + 1
    totals = np.stack(
        [session_totals(np.asarray(values), session, count) for values in per_position], axis=1
    )
    sizes = np.bincount(session, minlength=count).astype(float)
    return resampled_means(totals, sizes, resamples=500, seed=7)


def test_resampling_whole_sessions_weighs_them_by_their_positions() -> None:
    # One session of three hits, one of a single miss: every resample's mean is one of
    # 0 (miss twice), 3/4 (one of each) or 1 (hits twice).
    means = _means([[1, 1, 1, 0]], [0, 0, 0, 1])
    assert set(np.round(means[:, 0], 6)) <= {0.0, 0.75, 1.0}
    low, high = interval(means[:, 0])
    assert (low, high) == (0.0, 1.0)


def test_the_same_seed_draws_the_same_resamples() -> None:
    values, sessions = [[1, 0, 1, 0, 1, 1]], [0, 1, 2, 3, 4, 5]
    assert np.array_equal(_means(values, sessions), _means(values, sessions))


def test_a_difference_beyond_noise_is_better_or_worse() -> None:
    sessions = list(range(200))
    always = [1.0] * 200
    mostly = [0.0 if number % 5 == 0 else 1.0 for number in range(200)]
    means = _means([always, mostly], sessions)
    found = difference("a", "b", "HR@20", 0.2, means[:, 0] - means[:, 1])
    assert found.verdict == "better"
    assert 0 < found.low < 0.2 < found.high
    reverse = difference("b", "a", "HR@20", -0.2, means[:, 1] - means[:, 0])
    assert reverse.verdict == "worse"


def test_a_small_difference_on_few_sessions_is_within_noise() -> None:
    first = np.array([1.0, 0.0, 1.0] + [1.0, 0.0] * 28 + [1.0])
    second = first.copy()
    second[:3] = [0.0, 1.0, 0.0]  # three of sixty positions disagree, two one way
    means = _means([first.tolist(), second.tolist()], list(range(60)))
    found = difference(
        "a", "b", "MRR@20", float(first.mean() - second.mean()), means[:, 0] - means[:, 1]
    )
    assert found.low < 0 < found.high
    assert found.verdict == "within noise"


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.01, 0.2, "better"),
        (-0.3, -0.001, "worse"),
        (-0.1, 0.1, "within noise"),
        (0.0, 0.0, "within noise"),
    ],
)
def test_verdicts(low: float, high: float, expected: str) -> None:
    assert verdict(low, high) == expected
