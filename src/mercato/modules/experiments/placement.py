"""The experiments module's answer to "which strategy serves this placement?".

Installed into recommendations when this package is imported (see its `__init__`): the
experiment running on the placement assigns the shopper an arm, whose name is the
`variant` of the answer. Without a user id nobody can be assigned, so the control arm's
strategy answers and no exposure is claimed.

Every recommendation computed on a cache miss asks this, so each process keeps the
tenant's running experiments in memory, keyed by the recommendation cache generation the
caller read: starting or stopping an experiment bumps that generation after its commit,
so the next request on every process loads them again. The entries also expire after
`SNAPSHOT_TTL_S`, which bounds staleness should the bump itself fail.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.experiments.assignment import arm_index, boundaries
from mercato.modules.experiments.models import Experiment
from mercato.modules.recommendations import StrategyChoice, StrategyName, strategy_name

SNAPSHOT_TTL_S = 30.0
MAX_TENANTS = 10_000


@dataclass(frozen=True, slots=True)
class RunningExperiment:
    """What serving needs, ready: each arm's name and strategy and its share of positions."""

    id: uuid.UUID
    names: tuple[str, ...]
    strategies: tuple[StrategyName, ...]
    bounds: tuple[int, ...]

    @classmethod
    def of(cls, row: Experiment) -> RunningExperiment:
        return cls(
            row.id,
            tuple(str(arm["name"]) for arm in row.arms),
            tuple(strategy_name(str(arm["strategy"])) for arm in row.arms),
            boundaries([float(arm["weight"]) for arm in row.arms]),
        )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    generation: int
    expires_at: float
    by_placement: dict[str, RunningExperiment]


_snapshots: dict[uuid.UUID, _Snapshot] = {}


async def _running(
    session: AsyncSession, tenant_id: uuid.UUID, generation: int | None
) -> dict[str, RunningExperiment]:
    """The tenant's running experiments by placement, from memory while still current."""
    now = time.monotonic()
    known = _snapshots.get(tenant_id)
    if known is not None and known.generation == generation and known.expires_at > now:
        return known.by_placement
    rows = await session.scalars(
        select(Experiment).where(Experiment.tenant_id == tenant_id, Experiment.status == "running")
    )
    by_placement = {row.placement: RunningExperiment.of(row) for row in rows}
    if generation is not None:
        if len(_snapshots) >= MAX_TENANTS:
            _snapshots.clear()
        _snapshots[tenant_id] = _Snapshot(generation, now + SNAPSHOT_TTL_S, by_placement)
    return by_placement


async def choose_for_placement(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    placement: str,
    user_id: str | None,
    generation: int | None = None,
) -> StrategyChoice | None:
    """`generation`: the tenant's recommendation cache generation as the caller read it
    (None: unknown, so the database is asked)."""
    experiment = (await _running(session, tenant_id, generation)).get(placement)
    if experiment is None:
        return None
    if not user_id:
        return StrategyChoice(experiment.strategies[0])
    index = arm_index(experiment.id, user_id, experiment.bounds)
    return StrategyChoice(experiment.strategies[index], str(experiment.id), experiment.names[index])
