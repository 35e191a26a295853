"""Recommendations: the dataset built from tracking events and the catalog, the
strategies fitted on it, their offline evaluation, model versions and serving.

This is the public surface other modules use. The numeric modules (numpy, scipy,
implicit) load on first use of a name, so importing the package (as the `mercato`
command does for its `reco` group) stays instant.

Typical use, in a job and then in an API process:

    data = build_interactions(events, catalog)          # EventLog, CatalogTable
    model = create_strategy("auto"); model.fit(data); model.save(path)
    model = load_strategy(path)
    model.recommend(user_id=..., product_id=..., k=10, exclude={...})

Training reads the tenant's history from the database through `DatabaseSource`, as the
worker does and the demo seed does once.

Other modules serve lists with `compute(session, tenant_id, RecommendationQuery(...))`
and drop every cached list of a tenant with `invalidate_recommendations(tenant_id)`. The
dashboard lists model versions with `list_models` and queues a fit with `request_fit`.
The experiments module decides which strategy serves a placement through
`decide_placements_with` (recommendations does not import experiments).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mercato.modules.recommendations.cache import invalidate_recommendations
    from mercato.modules.recommendations.choice import (
        StrategyChoice,
        decide_placements_with,
        strategy_name,
    )
    from mercato.modules.recommendations.db_source import DatabaseSource
    from mercato.modules.recommendations.evaluation import (
        HoldoutReport,
        NotEnoughEventsError,
        evaluate_holdout,
    )
    from mercato.modules.recommendations.event_log import CatalogTable, EventLog
    from mercato.modules.recommendations.fitting import FitOutcome, TrainingSource, fit_tenant
    from mercato.modules.recommendations.interactions import (
        InteractionData,
        InteractionSettings,
        build_interactions,
    )
    from mercato.modules.recommendations.model_versions import (
        FitInProgress,
        list_models,
        request_fit,
    )
    from mercato.modules.recommendations.next_item import NextItemReport, evaluate_next_item
    from mercato.modules.recommendations.schemas import (
        PLACEMENT_PATTERN,
        FitQueued,
        ModelList,
        RecommendationList,
        RecommendedProduct,
        StrategyName,
    )
    from mercato.modules.recommendations.serving import RecommendationQuery, compute, recommend
    from mercato.modules.recommendations.strategies import (
        STRATEGIES,
        ModelFileMismatchError,
        ModelNotFittedError,
        Recommendation,
        Strategy,
        UnknownStrategyError,
        create_strategy,
        load_strategy,
    )

_HOME = {
    "CatalogTable": "event_log",
    "EventLog": "event_log",
    "InteractionData": "interactions",
    "InteractionSettings": "interactions",
    "build_interactions": "interactions",
    "STRATEGIES": "strategies",
    "ModelFileMismatchError": "strategies",
    "ModelNotFittedError": "strategies",
    "Recommendation": "strategies",
    "Strategy": "strategies",
    "UnknownStrategyError": "strategies",
    "create_strategy": "strategies",
    "load_strategy": "strategies",
    "HoldoutReport": "evaluation",
    "NotEnoughEventsError": "evaluation",
    "evaluate_holdout": "evaluation",
    "NextItemReport": "next_item",
    "evaluate_next_item": "next_item",
    "invalidate_recommendations": "cache",
    "DatabaseSource": "db_source",
    "FitOutcome": "fitting",
    "TrainingSource": "fitting",
    "fit_tenant": "fitting",
    "PLACEMENT_PATTERN": "schemas",
    "FitQueued": "schemas",
    "ModelList": "schemas",
    "FitInProgress": "model_versions",
    "list_models": "model_versions",
    "request_fit": "model_versions",
    "RecommendationList": "schemas",
    "RecommendedProduct": "schemas",
    "StrategyName": "schemas",
    "RecommendationQuery": "serving",
    "compute": "serving",
    "recommend": "serving",
    "StrategyChoice": "choice",
    "decide_placements_with": "choice",
    "strategy_name": "choice",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)


__all__ = [
    "PLACEMENT_PATTERN",
    "STRATEGIES",
    "CatalogTable",
    "DatabaseSource",
    "EventLog",
    "FitInProgress",
    "FitOutcome",
    "FitQueued",
    "HoldoutReport",
    "InteractionData",
    "InteractionSettings",
    "ModelFileMismatchError",
    "ModelList",
    "ModelNotFittedError",
    "NextItemReport",
    "NotEnoughEventsError",
    "Recommendation",
    "RecommendationList",
    "RecommendationQuery",
    "RecommendedProduct",
    "Strategy",
    "StrategyChoice",
    "StrategyName",
    "TrainingSource",
    "UnknownStrategyError",
    "build_interactions",
    "compute",
    "create_strategy",
    "decide_placements_with",
    "evaluate_holdout",
    "evaluate_next_item",
    "fit_tenant",
    "invalidate_recommendations",
    "list_models",
    "load_strategy",
    "recommend",
    "request_fit",
    "strategy_name",
]
