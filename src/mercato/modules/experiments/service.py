"""Experiments: create, read, move through their states, and report results.

States: draft → running ⇄ paused → completed (a draft may also be completed, i.e.
abandoned). Any other move is a 409. At most one experiment runs per placement; the
partial unique index `uq_experiment_running_placement` holds that even under races.
Every change of what runs on a placement drops the tenant's cached recommendation lists,
since a cached list carries the variant it was served under.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.modules.experiments.models import Experiment
from mercato.modules.experiments.results import count_variants
from mercato.modules.experiments.schemas import (
    ExperimentCreate,
    ExperimentList,
    ExperimentRead,
    ExperimentResults,
    ExperimentUpdate,
    VariantResult,
)
from mercato.modules.experiments.statistics import VariantTotals, compare, metric_value
from mercato.modules.recommendations import invalidate_recommendations

TRANSITIONS: dict[str, dict[str, set[str]]] = {
    "start": {"from": {"draft", "paused"}, "to": {"running"}},
    "pause": {"from": {"running"}, "to": {"paused"}},
    "complete": {"from": {"draft", "running", "paused"}, "to": {"completed"}},
}


class TransitionForbidden(Conflict):
    slug, title = "experiment-transition-forbidden", "The experiment cannot make this move"


class PlacementBusy(Conflict):
    slug, title = "placement-busy", "Another experiment is running on this placement"


def to_read(experiment: Experiment) -> ExperimentRead:
    return ExperimentRead.model_validate(experiment, from_attributes=True)


def snapshot(experiment: Experiment) -> dict[str, Any]:
    return to_read(experiment).model_dump(mode="json")


async def create_experiment(
    session: AsyncSession, tenant_id: uuid.UUID, body: ExperimentCreate
) -> Experiment:
    """A new experiment in `draft`: it changes nothing until it is started."""
    experiment = Experiment(tenant_id=tenant_id, status="draft", **body.model_dump())
    session.add(experiment)
    await session.flush()
    await session.refresh(experiment)
    return experiment


async def get_experiment(
    session: AsyncSession, tenant_id: uuid.UUID, experiment_id: uuid.UUID
) -> Experiment:
    experiment = await session.get(Experiment, (tenant_id, experiment_id))
    if experiment is None:
        raise NotFound("No such experiment")
    return experiment


class NotADraft(Conflict):
    slug, title = "experiment-not-draft", "Only a draft experiment can be changed or deleted"


async def update_experiment(
    session: AsyncSession, tenant_id: uuid.UUID, experiment_id: uuid.UUID, body: ExperimentUpdate
) -> Experiment:
    """Change a draft's design; 409 once it has started."""
    experiment = await session.get(Experiment, (tenant_id, experiment_id), with_for_update=True)
    if experiment is None:
        raise NotFound("No such experiment")
    if experiment.status != "draft":
        raise NotADraft(f"The experiment is {experiment.status}")
    for name, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(experiment, name, value)
    await session.flush()
    await session.refresh(experiment)
    return experiment


async def delete_experiment(
    session: AsyncSession, tenant_id: uuid.UUID, experiment_id: uuid.UUID
) -> Experiment:
    """Delete a draft; a started experiment is completed instead, never deleted."""
    experiment = await session.get(Experiment, (tenant_id, experiment_id), with_for_update=True)
    if experiment is None:
        raise NotFound("No such experiment")
    if experiment.status != "draft":
        raise NotADraft(f"The experiment is {experiment.status}; complete it instead")
    await session.delete(experiment)
    await session.flush()
    return experiment


async def list_experiments(
    session: AsyncSession, *, limit: int | None = None, cursor: str | None = None
) -> ExperimentList:
    """The session tenant's experiments, newest first, a page at a time."""
    size = clamp_limit(limit)
    after = read_cursor(cursor, lambda key: uuid.UUID(str(key["id"])))
    query = select(Experiment).order_by(Experiment.id.desc()).limit(size + 1)
    if after is not None:
        query = query.where(Experiment.id < after)
    rows = list((await session.scalars(query)).all())
    more = len(rows) > size
    page = rows[:size]
    next_cursor = encode_cursor({"id": str(page[-1].id)}) if more and page else None
    return ExperimentList(data=[to_read(row) for row in page], next_cursor=next_cursor)


async def move(
    session: AsyncSession, tenant_id: uuid.UUID, experiment_id: uuid.UUID, action: str
) -> Experiment:
    """Apply `start`, `pause` or `complete`; 409 when the state machine forbids it or
    (on start) another experiment already runs on the placement."""
    experiment = await session.get(Experiment, (tenant_id, experiment_id), with_for_update=True)
    if experiment is None:
        raise NotFound("No such experiment")
    rule = TRANSITIONS[action]
    if experiment.status not in rule["from"]:
        raise TransitionForbidden(f"A {experiment.status} experiment cannot {action}")
    now = datetime.now(UTC)
    if action == "start":
        busy = await running_experiment(session, tenant_id, experiment.placement)
        if busy is not None and busy.id != experiment.id:
            raise PlacementBusy(f"Experiment {busy.id} is running on {experiment.placement!r}")
        experiment.started_at = experiment.started_at or now
    if action == "complete":
        experiment.completed_at = now
    experiment.status = next(iter(rule["to"]))
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as raced:
        raise PlacementBusy(f"Another experiment is running on {experiment.placement!r}") from raced
    await session.refresh(experiment)

    async def drop_cached_lists() -> None:
        await invalidate_recommendations(tenant_id)

    after_commit(session, drop_cached_lists)
    return experiment


async def running_experiment(
    session: AsyncSession, tenant_id: uuid.UUID, placement: str
) -> Experiment | None:
    """The experiment running on `placement`, if any."""
    found: Experiment | None = await session.scalar(
        select(Experiment).where(
            Experiment.tenant_id == tenant_id,
            Experiment.placement == placement,
            Experiment.status == "running",
        )
    )
    return found


async def experiment_results(
    session: AsyncSession, tenant_id: uuid.UUID, experiment_id: uuid.UUID
) -> ExperimentResults:
    """Per-variant counts from the event log and gbstats' comparison on the metric."""
    experiment = await get_experiment(session, tenant_id, experiment_id)
    counted = await count_variants(session, tenant_id, experiment.id, until=experiment.completed_at)
    strategies = {
        "control": experiment.control_strategy,
        "variant": experiment.variant_strategy,
    }
    totals = {
        name: counted[name].totals if name in counted else VariantTotals() for name in strategies
    }
    comparison = compare(
        totals["control"],
        totals["variant"],
        metric=experiment.metric,
        traffic_split=experiment.traffic_split,
        sequential=experiment.sequential,
    )
    variants = [
        VariantResult(
            variant=name,
            strategy=strategy,
            users=totals[name].users,
            impressions=totals[name].impressions,
            clicks=totals[name].clicks,
            conversions=totals[name].conversions,
            revenue=counted[name].revenue if name in counted else 0,
            metric_value=metric_value(totals[name], experiment.metric),
        )
        for name, strategy in strategies.items()
    ]
    return ExperimentResults(
        variants=variants,
        metric=experiment.metric,
        lift=comparison.lift,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        p_value=comparison.p_value,
        chance_to_win=comparison.chance_to_win,
        srm_p_value=comparison.srm_p_value,
        sequential=experiment.sequential,
        note=comparison.note,
    )
