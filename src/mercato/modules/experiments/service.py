"""Experiments: create, read, move through their states, and report results.

An experiment's design is its arms (see `models`); the original two-arm fields are
turned into arms on the way in and kept derived from them on the way out.

States: draft → running ⇄ paused → completed (a draft may also be completed, i.e.
abandoned). Any other move is a 409. At most one experiment runs per placement; the
partial unique index `uq_experiment_running_placement` holds that even under races.
Every change of what runs on a placement drops the tenant's cached recommendation lists,
since a cached list carries the variant it was served under.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.modules.experiments.models import Experiment
from mercato.modules.experiments.results import CountedVariant, count_variants
from mercato.modules.experiments.schemas import (
    LEGACY_FIELDS,
    PRIMARY_NOT_GUARDRAIL,
    ArmResult,
    ExperimentCreate,
    ExperimentList,
    ExperimentRead,
    ExperimentResults,
    ExperimentUpdate,
    GuardrailResult,
    VariantResult,
)
from mercato.modules.experiments.statistics import (
    ALPHA,
    ArmVerdict,
    VariantTotals,
    compare_arms,
    metric_value,
)
from mercato.modules.recommendations import invalidate_recommendations

TRANSITIONS: dict[str, dict[str, set[str]]] = {
    "start": {"from": {"draft", "paused"}, "to": {"running"}},
    "pause": {"from": {"running"}, "to": {"paused"}},
    "complete": {"from": {"draft", "running", "paused"}, "to": {"completed"}},
}


SRM_THRESHOLD = 0.001  # below this, the users did not split as the weights say


class TransitionForbidden(Conflict):
    slug, title = "experiment-transition-forbidden", "The experiment cannot make this move"


class PlacementBusy(Conflict):
    slug, title = "placement-busy", "Another experiment is running on this placement"


def to_read(experiment: Experiment) -> ExperimentRead:
    return ExperimentRead.model_validate(experiment, from_attributes=True)


def snapshot(experiment: Experiment) -> dict[str, Any]:
    return to_read(experiment).model_dump(mode="json")


def _legacy_columns(arms: list[dict[str, Any]]) -> dict[str, Any]:
    """The original fields as arms imply them: the first two strategies, and control's
    share of the weights in percent (rounded when the arms are not whole percents)."""
    total = sum(float(arm["weight"]) for arm in arms)
    return {
        "control_strategy": arms[0]["strategy"],
        "variant_strategy": arms[1]["strategy"],
        "traffic_split": round(100 * float(arms[0]["weight"]) / total),
    }


async def create_experiment(
    session: AsyncSession, tenant_id: uuid.UUID, body: ExperimentCreate
) -> Experiment:
    """A new experiment in `draft`: it changes nothing until it is started."""
    arms = body.design()
    experiment = Experiment(
        tenant_id=tenant_id,
        status="draft",
        arms=arms,
        **_legacy_columns(arms),
        **body.model_dump(exclude={"arms", *LEGACY_FIELDS}),
    )
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
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    arms = changes.pop("arms", None)
    legacy = {name: changes.pop(name) for name in LEGACY_FIELDS if name in changes}
    if legacy:
        arms = _two_arms_changed(experiment.arms, legacy)
    if arms is not None:
        experiment.arms = arms
        for name, value in _legacy_columns(arms).items():
            setattr(experiment, name, value)
    for name, value in changes.items():
        setattr(experiment, name, value)
    if experiment.metric in experiment.guardrails:
        raise ValidationFailed(
            "Some fields need attention",
            errors=[field_error("guardrails", PRIMARY_NOT_GUARDRAIL)],
        )
    await session.flush()
    await session.refresh(experiment)
    return experiment


def _two_arms_changed(arms: list[dict[str, Any]], legacy: dict[str, Any]) -> list[dict[str, Any]]:
    """A two-arm design with the original fields applied; more arms are changed as arms."""
    if len(arms) != 2:
        problem = f"the experiment has {len(arms)} arms: change arms instead"
        errors = [field_error(name, problem) for name in legacy]
        raise ValidationFailed("Some fields need attention", errors=errors)
    control, variant = dict(arms[0]), dict(arms[1])
    control["strategy"] = legacy.get("control_strategy", control["strategy"])
    variant["strategy"] = legacy.get("variant_strategy", variant["strategy"])
    if "traffic_split" in legacy:
        control["weight"] = legacy["traffic_split"]
        variant["weight"] = 100 - legacy["traffic_split"]
    return [control, variant]


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
    """Per-arm counts from the event log and gbstats' comparison of every arm with control
    on the primary metric (Holm-adjusted across arms) and on each guardrail, and the
    sample-ratio check across all arms."""
    experiment = await get_experiment(session, tenant_id, experiment_id)
    names = [str(arm["name"]) for arm in experiment.arms]
    counted = await count_variants(
        session, tenant_id, experiment.id, names, until=experiment.completed_at
    )
    totals = [counted[name].totals if name in counted else VariantTotals() for name in names]
    compared = compare_arms(
        totals,
        [float(arm["weight"]) for arm in experiment.arms],
        metric=experiment.metric,
        guardrails=experiment.guardrails,
        sequential=experiment.sequential,
    )
    arms = [
        _arm_result(
            arm, totals[index], counted.get(names[index]), verdict, metric=experiment.metric
        )
        for index, (arm, verdict) in enumerate(zip(experiment.arms, compared.arms, strict=True))
    ]
    first = arms[1]
    return ExperimentResults(
        variants=[
            VariantResult(
                variant=arm.name,
                strategy=arm.strategy,
                users=arm.users,
                impressions=arm.impressions,
                clicks=arm.clicks,
                conversions=arm.conversions,
                revenue=arm.revenue,
                metric_value=arm.metric_value,
            )
            for arm in arms
        ],
        arms=arms,
        metric=experiment.metric,
        guardrails=experiment.guardrails,
        lift=first.lift,
        ci_low=first.ci_low,
        ci_high=first.ci_high,
        p_value=first.p_value,
        chance_to_win=first.chance_to_win,
        srm_p_value=compared.srm_p_value,
        srm=compared.srm_p_value < SRM_THRESHOLD,
        sequential=experiment.sequential,
        note=first.note,
    )


def _arm_result(
    arm: dict[str, Any],
    totals: VariantTotals,
    counted: CountedVariant | None,
    verdict: ArmVerdict,
    *,
    metric: str,
) -> ArmResult:
    found, adjusted = verdict.effect, verdict.p_value_adjusted
    return ArmResult(
        name=arm["name"],
        strategy=arm["strategy"],
        weight=float(arm["weight"]),
        control=found is None,
        users=totals.users,
        impressions=totals.impressions,
        clicks=totals.clicks,
        conversions=totals.conversions,
        revenue=counted.revenue if counted else Decimal(0),
        metric_value=metric_value(totals, metric),
        lift=found.lift if found else None,
        ci_low=found.ci_low if found else None,
        ci_high=found.ci_high if found else None,
        p_value=found.p_value if found else None,
        p_value_adjusted=adjusted,
        chance_to_win=found.chance_to_win if found else None,
        significant=adjusted is not None and adjusted < ALPHA,
        guardrails=[
            GuardrailResult(
                metric=name,
                value=metric_value(totals, name),
                lift=drop.lift,
                p_value=drop.p_value,
                failed=drop.p_value is not None and drop.p_value < ALPHA,
                note=drop.note,
            )
            for name, drop in verdict.drops.items()
        ],
        note=found.note if found else None,
    )
