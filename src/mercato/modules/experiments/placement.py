"""The experiments module's answer to "which strategy serves this placement?".

Installed into recommendations when this package is imported (see its `__init__`): the
experiment running on the placement assigns the shopper a variant. Without a user id
nobody can be assigned, so the control strategy answers and no exposure is claimed.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.experiments.assignment import assign
from mercato.modules.experiments.service import running_experiment
from mercato.modules.recommendations import StrategyChoice, strategy_name


async def choose_for_placement(
    session: AsyncSession, tenant_id: uuid.UUID, placement: str, user_id: str | None
) -> StrategyChoice | None:
    experiment = await running_experiment(session, tenant_id, placement)
    if experiment is None:
        return None
    if not user_id:
        return StrategyChoice(strategy_name(experiment.control_strategy))
    variant = assign(experiment.id, user_id, experiment.traffic_split)
    strategy = experiment.control_strategy if variant == "control" else experiment.variant_strategy
    return StrategyChoice(strategy_name(strategy), str(experiment.id), variant)
