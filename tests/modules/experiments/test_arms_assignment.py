"""Assignment across weighted arms: the shares follow the weights, and a two-arm
experiment designed with `traffic_split` keeps the API.md assignment exactly."""

from __future__ import annotations

import math
import uuid

import pytest

from mercato.modules.experiments import arm_index, assign, boundaries
from mercato.modules.experiments.schemas import legacy_arms

USERS = [f"shopper-{n}" for n in range(12_000)]


@pytest.mark.parametrize("split", [0, 1, 33, 50, 67, 99, 100])
def test_two_arms_from_traffic_split_assign_as_the_api_md_rule(split: int) -> None:
    experiment_id = uuid.uuid4()
    arms = legacy_arms("auto", "trending", split)
    bounds = boundaries([arm["weight"] for arm in arms])
    names = [arm["name"] for arm in arms]
    for user in USERS[:3_000]:
        assert names[arm_index(experiment_id, user, bounds)] == assign(experiment_id, user, split)


def test_boundaries_are_exact_shares_of_the_positions() -> None:
    assert boundaries([50, 50]) == (50_000_000, 100_000_000)
    assert boundaries([1, 1, 1]) == (33_333_334, 66_666_667, 100_000_000)
    assert boundaries([0.5, 0.25, 0.25]) == (50_000_000, 75_000_000, 100_000_000)
    assert boundaries([0, 100]) == (0, 100_000_000)


@pytest.mark.parametrize("weights", [[1, 1, 1], [50, 30, 20], [0.1, 0.2, 0.3, 0.4], [1] * 6])
def test_shares_follow_the_weights_within_sampling_error(weights: list[float]) -> None:
    experiment_id = uuid.uuid4()
    bounds = boundaries(weights)
    counts = [0] * len(weights)
    for user in USERS:
        counts[arm_index(experiment_id, user, bounds)] += 1
    total = sum(weights)
    for count, weight in zip(counts, weights, strict=True):
        share = weight / total
        sd = math.sqrt(len(USERS) * share * (1 - share))
        assert abs(count - len(USERS) * share) < 4 * sd, (counts, weights)


def test_a_shopper_keeps_their_arm() -> None:
    experiment_id = uuid.uuid4()
    bounds = boundaries([1, 2, 3])
    first = [arm_index(experiment_id, user, bounds) for user in USERS[:500]]
    assert first == [arm_index(str(experiment_id), user, bounds) for user in USERS[:500]]
