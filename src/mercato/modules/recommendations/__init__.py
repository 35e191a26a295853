"""Recommendations: the dataset built from tracking events and the catalog, the
strategies fitted on it, and their offline evaluation.

This is the public surface other modules use. The numeric modules (numpy, scipy,
implicit) load on first use of a name, so importing the package (as the `mercato`
command does for its `reco` group) stays instant.

Typical use, in a job and then in an API process:

    data = build_interactions(events, catalog)          # EventLog, CatalogTable
    model = create_strategy("auto"); model.fit(data); model.save(path)
    model = load_strategy(path)
    model.recommend(user_id=..., product_id=..., k=10, exclude={...})
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mercato.modules.recommendations.evaluation import (
        HoldoutReport,
        NotEnoughEventsError,
        evaluate_holdout,
    )
    from mercato.modules.recommendations.event_log import CatalogTable, EventLog
    from mercato.modules.recommendations.interactions import (
        InteractionData,
        InteractionSettings,
        build_interactions,
    )
    from mercato.modules.recommendations.next_item import NextItemReport, evaluate_next_item
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
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)


__all__ = [
    "STRATEGIES",
    "CatalogTable",
    "EventLog",
    "HoldoutReport",
    "InteractionData",
    "InteractionSettings",
    "ModelFileMismatchError",
    "ModelNotFittedError",
    "NextItemReport",
    "NotEnoughEventsError",
    "Recommendation",
    "Strategy",
    "UnknownStrategyError",
    "build_interactions",
    "create_strategy",
    "evaluate_holdout",
    "evaluate_next_item",
    "load_strategy",
]
