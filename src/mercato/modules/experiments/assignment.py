"""Which variant a shopper sees: a pure function of the experiment and the user.

`bucket = int(sha256(f"{experiment_id}:{user_id}").hexdigest(), 16) % 100` (API.md); buckets
below `traffic_split` are control. Nothing is stored per shopper, every process agrees,
and a shopper keeps their variant for the whole experiment.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Literal

CONTROL: Literal["control"] = "control"
VARIANT: Literal["variant"] = "variant"


def bucket(experiment_id: uuid.UUID | str, user_id: str) -> int:
    digest = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).hexdigest()
    return int(digest, 16) % 100


def assign(
    experiment_id: uuid.UUID | str, user_id: str, traffic_split: int
) -> Literal["control", "variant"]:
    """`control` for the first `traffic_split` percent of buckets, else `variant`."""
    return CONTROL if bucket(experiment_id, user_id) < traffic_split else VARIANT
