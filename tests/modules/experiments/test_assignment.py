"""Assignment follows the API.md formula, is stable, and splits traffic as configured."""

from __future__ import annotations

import hashlib
import math
import uuid

import pytest

from mercato.modules.experiments import assign, bucket

USERS = [f"shopper-{n}" for n in range(10_000)]


def test_the_bucket_is_the_api_md_formula() -> None:
    experiment_id = uuid.UUID("0190f3a0-0000-7000-8000-000000000001")
    for user in ("u1", "anonymous-7f3a", "ü-ñ"):
        expected = int(hashlib.sha256(f"{experiment_id}:{user}".encode()).hexdigest(), 16) % 100
        assert bucket(experiment_id, user) == expected


def test_the_same_user_always_lands_in_the_same_variant() -> None:
    experiment_id = uuid.uuid4()
    first = [assign(experiment_id, user, 50) for user in USERS[:500]]
    again = [assign(str(experiment_id), user, 50) for user in USERS[:500]]
    assert first == again


@pytest.mark.parametrize("traffic_split", [10, 50, 80])
def test_the_split_matches_traffic_split_within_sampling_error(traffic_split: int) -> None:
    experiment_id = uuid.uuid4()
    control = sum(assign(experiment_id, user, traffic_split) == "control" for user in USERS)
    expected = len(USERS) * traffic_split / 100
    sd = math.sqrt(len(USERS) * traffic_split / 100 * (1 - traffic_split / 100))
    assert abs(control - expected) < 4 * sd, (control, expected)


def test_the_edges_send_everyone_to_one_side() -> None:
    experiment_id = uuid.uuid4()
    assert {assign(experiment_id, user, 0) for user in USERS[:300]} == {"variant"}
    assert {assign(experiment_id, user, 100) for user in USERS[:300]} == {"control"}


def test_two_experiments_split_the_same_users_independently() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    same = sum(assign(first, user, 50) == assign(second, user, 50) for user in USERS)
    assert abs(same - 5_000) < 4 * 50
