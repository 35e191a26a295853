"""Experiments: A/B/n tests between recommendation strategies on one placement.

Public surface: `assign(experiment_id, user_id, traffic_split)` and `bucket(...)` (the
API.md assignment rule of a two-arm experiment), `arm_index` and `boundaries` (which of
weighted arms a shopper sees), `running_experiment(session, tenant_id, placement)` and
`choose_for_placement` (the decision installed into recommendations' serving); for the
dashboard and the demo seed, the experiment's life cycle (`create_experiment`,
`list_experiments`, `get_experiment`, `move`, `experiment_results`, `to_read`) and its
shapes `Arm`, `ExperimentCreate`, `ExperimentRead`.
Importing the package installs its placement decision into recommendations' serving and
declares the `mercato_experiments_running` gauge.
"""

from mercato.modules.experiments import telemetry  # noqa: F401  (declares its gauge)
from mercato.modules.experiments.assignment import arm_index, assign, boundaries, bucket
from mercato.modules.experiments.placement import choose_for_placement
from mercato.modules.experiments.schemas import Arm, ExperimentCreate, ExperimentRead
from mercato.modules.experiments.service import (
    create_experiment,
    experiment_results,
    get_experiment,
    list_experiments,
    move,
    running_experiment,
    to_read,
)
from mercato.modules.recommendations import decide_placements_with

decide_placements_with(choose_for_placement)

__all__ = [
    "Arm",
    "ExperimentCreate",
    "ExperimentRead",
    "arm_index",
    "assign",
    "boundaries",
    "bucket",
    "choose_for_placement",
    "create_experiment",
    "experiment_results",
    "get_experiment",
    "list_experiments",
    "move",
    "running_experiment",
    "to_read",
]
