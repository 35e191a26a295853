"""Experiments: A/B tests between two recommendation strategies on one placement.

Public surface: `assign(experiment_id, user_id, traffic_split)` and `bucket(...)` (the
API.md assignment rule) and `running_experiment(session, tenant_id, placement)`.
"""

from mercato.modules.experiments.assignment import assign, bucket
from mercato.modules.experiments.service import running_experiment

__all__ = ["assign", "bucket", "running_experiment"]
