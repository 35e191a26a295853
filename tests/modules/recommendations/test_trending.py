from __future__ import annotations

from mercato.modules.recommendations.strategies import TrendingSettings, TrendingStrategy

from .shop import DAY, T0, dataset, visit


def _views(product_id: str, times: int, *, day: float, kind: str = "view_item") -> list[dict]:
    return [
        event
        for number in range(times)
        for event in visit(
            f"{product_id}-{day}-{number}",
            f"{product_id}-{day}-s{number}",
            [product_id],
            start=T0 + day * DAY + number,
            kind=kind,
            order=f"o-{product_id}-{number}",
        )
    ]


def _fitted(events: list[dict], **settings) -> TrendingStrategy:
    strategy = TrendingStrategy(TrendingSettings(**settings))
    strategy.fit(dataset(events, now=T0 + 10 * DAY))
    return strategy


class TestTrending:
    def test_recent_views_beat_more_numerous_old_ones(self) -> None:
        strategy = _fitted(_views("lamp", 6, day=0) + _views("rug", 3, day=10))
        found = strategy.recommend(k=2)
        assert [item.product_id for item in found] == ["rug", "lamp"]
        assert found[0].reason == "Trending now"

    def test_a_purchase_counts_more_than_a_few_views(self) -> None:
        strategy = _fitted(
            _views("cushion", 1, day=10, kind="purchase") + _views("throw", 5, day=10)
        )
        assert strategy.recommend(k=1)[0].product_id == "cushion"

    def test_on_a_product_page_its_category_trends_first(self) -> None:
        strategy = _fitted(
            _views("lamp", 20, day=10)
            + _views("blue-sofa", 2, day=10)
            + _views("oak-chair", 5, day=10)
        )
        found = strategy.recommend(product_id="grey-sofa", k=3)
        assert found[0].product_id == "blue-sofa"
        assert found[0].reason == "Trending in Sofas"
        assert found[1].product_id == "oak-chair"
        assert found[1].reason == "Trending in Furniture"
        assert found[2].reason == "Trending now"

    def test_already_bought_products_are_not_pushed_again(self) -> None:
        events = _views("lamp", 5, day=10) + _views("rug", 1, day=10)
        events += visit("me", "me-s", ["lamp"], kind="purchase", order="mine", start=T0)
        strategy = _fitted(events)
        assert [item.product_id for item in strategy.recommend(user_id="me", k=5)] == ["rug"]
