"""Which strategy answers a placement when the caller names none.

An A/B experiment running on the placement decides per shopper. The experiments module
(which builds on this one: it names the strategies and drops cached lists) plugs its
decision in with `decide_placements_with` when it is imported, so recommendations never
imports experiments. Without an experiment, or before experiments is loaded, `auto`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.recommendations.schemas import StrategyName


@dataclass(frozen=True)
class StrategyChoice:
    strategy: StrategyName
    experiment_id: str | None = None
    variant: str | None = None


def strategy_name(value: str) -> StrategyName:
    """A stored strategy name, checked against the names the API offers."""
    if value not in get_args(StrategyName):
        raise ValueError(f"unknown strategy {value!r}")
    return cast(StrategyName, value)


PlacementDecision = Callable[
    [AsyncSession, uuid.UUID, str, str | None, int | None], Awaitable[StrategyChoice | None]
]
"""`(session, tenant_id, placement, user_id, generation)` → the experiment's choice, or
None. `generation` is the tenant's cache generation as the caller read it (None when
unknown), which experiments bump when one starts or stops."""

_decide: list[PlacementDecision] = []


def decide_placements_with(decision: PlacementDecision) -> None:
    """Install the experiments module's decision (replacing any earlier one)."""
    _decide[:] = [decision]


async def experiment_choice(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    placement: str,
    user_id: str | None,
    generation: int | None = None,
) -> StrategyChoice | None:
    if not _decide:
        return None
    return await _decide[0](session, tenant_id, placement, user_id, generation)
