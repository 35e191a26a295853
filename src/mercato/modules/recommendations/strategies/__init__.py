"""Recommendation strategies behind one interface, by the names the API uses."""

from __future__ import annotations

from pathlib import Path

from mercato.modules.recommendations.model_file import load_arrays
from mercato.modules.recommendations.strategies.auto import AutoSettings, AutoStrategy
from mercato.modules.recommendations.strategies.base import (
    ModelFileMismatchError,
    ModelNotFittedError,
    Recommendation,
    Strategy,
)
from mercato.modules.recommendations.strategies.bought_together import (
    BoughtTogetherSettings,
    BoughtTogetherStrategy,
)
from mercato.modules.recommendations.strategies.collaborative import (
    CollaborativeSettings,
    CollaborativeStrategy,
)
from mercato.modules.recommendations.strategies.content_based import (
    ContentBasedStrategy,
    ContentSettings,
)
from mercato.modules.recommendations.strategies.trending import (
    TrendingSettings,
    TrendingStrategy,
)

STRATEGIES: dict[str, type[Strategy]] = {
    strategy.name: strategy
    for strategy in (
        CollaborativeStrategy,
        ContentBasedStrategy,
        TrendingStrategy,
        BoughtTogetherStrategy,
        AutoStrategy,
    )
}
"""The strategies the API offers (`strategy=` in API.md), by name."""


class UnknownStrategyError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")


def create_strategy(name: str) -> Strategy:
    """A new, unfitted strategy with default settings."""
    if name not in STRATEGIES:
        raise UnknownStrategyError(name)
    return STRATEGIES[name]()


def load_strategy(path: Path) -> Strategy:
    """Whatever strategy a model file holds, ready to answer queries."""
    arrays = load_arrays(path)
    name = str(arrays["strategy"])
    if name not in STRATEGIES:
        raise UnknownStrategyError(name)
    return STRATEGIES[name].from_arrays(arrays, source=str(path))


__all__ = [
    "STRATEGIES",
    "AutoSettings",
    "AutoStrategy",
    "BoughtTogetherSettings",
    "BoughtTogetherStrategy",
    "CollaborativeSettings",
    "CollaborativeStrategy",
    "ContentBasedStrategy",
    "ContentSettings",
    "ModelFileMismatchError",
    "ModelNotFittedError",
    "Recommendation",
    "Strategy",
    "TrendingSettings",
    "TrendingStrategy",
    "UnknownStrategyError",
    "create_strategy",
    "load_strategy",
]
