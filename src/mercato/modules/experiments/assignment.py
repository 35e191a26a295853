"""Which arm a shopper sees: a pure function of the experiment and the user.

`bucket = int(sha256(f"{experiment_id}:{user_id}").hexdigest(), 16) % 100` (API.md); for
an experiment created with `traffic_split`, buckets below it are control. Nothing is
stored per shopper, every process agrees, and a shopper keeps their arm for the whole
experiment.

Arms with weights need a finer grain than a percent (three equal arms are not whole
percents), so the shopper's `position` in [0, 10^8) extends the bucket with six more
digits of the same hash: `position = bucket * 10^6 + (h // 100) % 10^6`. The bucket is the
position's leading part, so `position < split * 10^6` exactly when `bucket < split`: the
two arms of an experiment created with `traffic_split` (stored as weights `split` and
`100 - split`) keep the very assignment of the API.md rule.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

CONTROL: Literal["control"] = "control"
VARIANT: Literal["variant"] = "variant"
POSITIONS = 10**8
_FINE = POSITIONS // 100


def _hash(experiment_id: uuid.UUID | str, user_id: str) -> int:
    return int(hashlib.sha256(f"{experiment_id}:{user_id}".encode()).hexdigest(), 16)


def bucket(experiment_id: uuid.UUID | str, user_id: str) -> int:
    return _hash(experiment_id, user_id) % 100


def assign(
    experiment_id: uuid.UUID | str, user_id: str, traffic_split: int
) -> Literal["control", "variant"]:
    """`control` for the first `traffic_split` percent of buckets, else `variant`."""
    return CONTROL if bucket(experiment_id, user_id) < traffic_split else VARIANT


def position(experiment_id: uuid.UUID | str, user_id: str) -> int:
    """The shopper's place in [0, 10^8): the bucket, then six finer digits."""
    digest = _hash(experiment_id, user_id)
    return (digest % 100) * _FINE + (digest // 100) % _FINE


def boundaries(weights: Sequence[float]) -> tuple[int, ...]:
    """Each arm's exclusive upper position: arm i takes the positions below its bound and
    at or above the previous one, in proportion to its weight (exact arithmetic, so
    weights 50 / 50 give 5 * 10^7 and not a float's neighbour of it)."""
    exact = [Fraction(weight) for weight in weights]
    total = sum(exact, Fraction(0))
    bounds: list[int] = []
    running = Fraction(0)
    for weight in exact:
        running += weight
        bounds.append(math.ceil(running / total * POSITIONS))
    return tuple(bounds)


def arm_index(experiment_id: uuid.UUID | str, user_id: str, bounds: Sequence[int]) -> int:
    """The index of the arm whose share of positions holds the shopper."""
    place = position(experiment_id, user_id)
    for index, bound in enumerate(bounds):
        if place < bound:
            return index
    return len(bounds) - 1
