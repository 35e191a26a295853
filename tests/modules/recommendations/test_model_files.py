from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mercato.modules.recommendations.strategies import (
    STRATEGIES,
    CollaborativeStrategy,
    ModelFileMismatchError,
    ModelNotFittedError,
    TrendingSettings,
    TrendingStrategy,
    UnknownStrategyError,
    create_strategy,
    load_strategy,
)

from .shop import DAY, T0, dataset, visit


def _events() -> list[dict]:
    events = []
    for number in range(4):
        start = T0 + number * DAY
        events += visit(f"u{number}", f"s{number}", ["oak-chair", "oak-table", "lamp"], start=start)
        events += visit(
            f"u{number}",
            f"s{number}",
            ["grey-sofa", "cushion"],
            kind="purchase",
            order=f"o{number}",
            start=start + 600,
        )
    events += visit("x", "sx", ["rug", "throw"], kind="purchase", order="ox")
    events += visit("y", "sy", ["rug", "lamp"], kind="purchase", order="oy")
    return events


QUERIES = [
    {"product_id": "oak-chair"},
    {"product_id": "grey-sofa", "recently_viewed": ["oak-table"]},
    {"user_id": "u1"},
    {"user_id": "stranger"},
]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_a_saved_model_answers_like_the_fitted_one(name: str, tmp_path: Path) -> None:
    strategy = create_strategy(name)
    strategy.fit(dataset(_events()))
    path = tmp_path / "models" / f"{name}.npz"
    strategy.save(path)
    with np.load(path, allow_pickle=False) as stored:
        assert str(stored["strategy"]) == name
    loaded = load_strategy(path)
    assert type(loaded) is type(strategy)
    answered = 0
    for query in QUERIES:
        expected = strategy.recommend(k=5, **query)
        assert loaded.recommend(k=5, **query) == expected
        answered += bool(expected)
    assert answered >= 1


def test_settings_travel_with_the_model(tmp_path: Path) -> None:
    strategy = TrendingStrategy(TrendingSettings(half_life_days=1.5, per_category=7))
    strategy.fit(dataset(_events()))
    strategy.save(tmp_path / "trending.npz")
    assert TrendingStrategy.load(tmp_path / "trending.npz").settings == strategy.settings


def test_a_model_file_of_another_strategy_is_refused(tmp_path: Path) -> None:
    strategy = TrendingStrategy()
    strategy.fit(dataset(_events()))
    strategy.save(tmp_path / "trending.npz")
    with pytest.raises(ModelFileMismatchError, match="trending"):
        CollaborativeStrategy.load(tmp_path / "trending.npz")


def test_an_unfitted_strategy_says_so() -> None:
    with pytest.raises(ModelNotFittedError):
        CollaborativeStrategy().recommend(product_id="oak-chair", k=3)


def test_unknown_strategy_names_are_rejected() -> None:
    with pytest.raises(UnknownStrategyError, match="collaborative"):
        create_strategy("magic")


def test_no_partial_file_is_left_behind(tmp_path: Path) -> None:
    strategy = TrendingStrategy()
    strategy.fit(dataset(_events()))
    strategy.save(tmp_path / "m.npz")
    strategy.save(tmp_path / "m.npz")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["m.npz"]
