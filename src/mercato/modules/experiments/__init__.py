"""Experiments: A/B tests between two recommendation strategies on one placement.

Public surface: `assign(experiment_id, user_id, traffic_split)` and `bucket(...)` (the
API.md assignment rule) and `running_experiment(session, tenant_id, placement)`.
Importing the package installs its placement decision into recommendations' serving.
"""

from mercato.modules.experiments.assignment import assign, bucket
from mercato.modules.experiments.placement import choose_for_placement
from mercato.modules.experiments.service import running_experiment
from mercato.modules.recommendations import decide_placements_with

decide_placements_with(choose_for_placement)

__all__ = ["assign", "bucket", "running_experiment"]
