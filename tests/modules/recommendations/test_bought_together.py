from __future__ import annotations

from mercato.modules.recommendations.strategies import (
    BoughtTogetherSettings,
    BoughtTogetherStrategy,
)

from .shop import DAY, T0, dataset, visit


def _orders(
    products: list[str], times: int, prefix: str, *, with_order_id: bool = True
) -> list[dict]:
    return [
        event
        for number in range(times)
        for event in visit(
            f"{prefix}-u{number}",
            f"{prefix}-s{number}",
            products,
            kind="purchase",
            order=f"{prefix}-o{number}" if with_order_id else None,
            start=T0 + number * DAY,
        )
    ]


def _fitted(events: list[dict], **settings) -> BoughtTogetherStrategy:
    strategy = BoughtTogetherStrategy(BoughtTogetherSettings(**settings))
    strategy.fit(dataset(events))
    return strategy


class TestBoughtTogether:
    def test_complements_of_the_product_are_recommended_with_a_reason(self) -> None:
        strategy = _fitted(
            _orders(["grey-sofa", "cushion"], 4, "a")
            + _orders(["lamp", "rug"], 3, "b")
            + _orders(["grey-sofa", "lamp"], 1, "c")
        )
        found = strategy.recommend(product_id="grey-sofa", k=5)
        assert [item.product_id for item in found] == ["cushion"]
        assert found[0].reason == "Frequently bought together with Grey Sofa"
        assert found[0].score == 4 / 5

    def test_a_product_in_every_order_is_no_complement(self) -> None:
        strategy = _fitted(
            _orders(["grey-sofa", "cushion", "throw"], 3, "a") + _orders(["lamp", "throw"], 3, "b")
        )
        found = [item.product_id for item in strategy.recommend(product_id="grey-sofa", k=5)]
        assert found == ["cushion"]

    def test_thresholds_drop_weak_rules(self) -> None:
        events = _orders(["grey-sofa", "cushion"], 2, "a") + _orders(["lamp", "rug"], 4, "b")
        assert _fitted(events, min_co_purchases=3).recommend(product_id="grey-sofa", k=5) == []
        assert _fitted(events, min_lift=4.0).recommend(product_id="grey-sofa", k=5) == []
        assert len(_fitted(events).recommend(product_id="grey-sofa", k=5)) == 1

    def test_purchases_without_order_id_pair_within_the_visit(self) -> None:
        strategy = _fitted(
            _orders(["grey-sofa", "cushion"], 3, "a", with_order_id=False)
            + _orders(["lamp", "rug"], 3, "b", with_order_id=False)
        )
        assert [item.product_id for item in strategy.recommend(product_id="cushion", k=3)] == [
            "grey-sofa"
        ]

    def test_oversized_baskets_are_ignored(self) -> None:
        everything = ["grey-sofa", "cushion", "lamp", "rug", "throw"]
        events = _orders(everything, 3, "bulk") + _orders(["oak-chair", "oak-table"], 3, "a")
        events += _orders(["lamp", "rug"], 3, "b")
        strategy = _fitted(events, max_basket_size=4)
        assert strategy.recommend(product_id="grey-sofa", k=5) == []
        assert strategy.recommend(product_id="oak-chair", k=5)[0].product_id == "oak-table"

    def test_the_cart_of_a_known_shopper_drives_complements(self) -> None:
        events = _orders(["grey-sofa", "cushion"], 3, "a") + _orders(["lamp", "rug"], 3, "b")
        events += visit("me", "me-s", ["lamp"], kind="add_to_cart", start=T0 + 9 * DAY)
        found = _fitted(events).recommend(user_id="me", k=3)
        assert [item.product_id for item in found] == ["rug"]
        assert found[0].reason == "Frequently bought together with Brass Lamp"
