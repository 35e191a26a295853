from __future__ import annotations

import pytest

from mercato.modules.recommendations.strategies import (
    CollaborativeSettings,
    CollaborativeStrategy,
)

from .shop import DAY, T0, dataset, furniture, visit


def _fitted(events, catalog=None, **settings) -> CollaborativeStrategy:
    strategy = CollaborativeStrategy(CollaborativeSettings(**settings))
    strategy.fit(dataset(events, catalog))
    return strategy


def _visits(pattern: list[str], times: int, prefix: str) -> list[dict]:
    return [
        event
        for number in range(times)
        for event in visit(
            f"{prefix}{number}", f"{prefix}-s{number}", pattern, start=T0 + number * DAY
        )
    ]


class TestItemToItem:
    def test_the_most_co_viewed_product_ranks_first_with_a_reason(self) -> None:
        strategy = _fitted(
            _visits(["oak-chair", "oak-table"], 5, "a")
            + _visits(["oak-chair", "lamp"], 2, "b")
            + _visits(["lamp", "rug"], 2, "c")
        )
        found = strategy.recommend(product_id="oak-chair", k=5)
        assert [item.product_id for item in found[:2]] == ["oak-table", "lamp"]
        assert found[0].reason == "Often viewed together with Oak Chair"
        assert found[0].score > found[1].score
        assert "oak-chair" not in [item.product_id for item in found]

    def test_the_product_on_screen_outweighs_what_was_viewed_before(self) -> None:
        strategy = _fitted(
            _visits(["oak-chair", "oak-table"], 5, "a") + _visits(["grey-sofa", "cushion"], 5, "b")
        )
        on_sofa = strategy.recommend(product_id="grey-sofa", recently_viewed=["oak-chair"], k=4)
        assert on_sofa[0].product_id == "cushion"
        assert on_sofa[0].reason == "Often viewed together with Grey Sofa"
        assert "oak-table" in [item.product_id for item in on_sofa]
        on_chair = strategy.recommend(product_id="oak-chair", recently_viewed=["grey-sofa"], k=4)
        assert on_chair[0].product_id == "oak-table"

    def test_following_views_count_more_than_preceding_ones(self) -> None:
        strategy = _fitted(
            _visits(["oak-chair", "oak-table"], 4, "a") + _visits(["lamp", "oak-chair"], 4, "b")
        )
        found = strategy.recommend(product_id="oak-chair", k=2)
        assert [item.product_id for item in found] == ["oak-table", "lamp"]

    def test_unavailable_deleted_and_bought_products_are_never_returned(self) -> None:
        catalog = furniture(**{"oak-table": {"available": False}, "oak-stool": {"deleted": True}})
        events = _visits(["oak-chair", "oak-table", "oak-stool", "lamp", "rug"], 3, "a")
        events += visit("buyer", "s-buyer", ["lamp"], kind="purchase", order="o1")
        strategy = _fitted(events, catalog)
        found = [
            item.product_id
            for item in strategy.recommend(user_id="buyer", product_id="oak-chair", k=10)
        ]
        assert found == ["rug"]
        with_bought = strategy.recommend(
            user_id="buyer", product_id="oak-chair", k=10, include_purchased=True
        )
        assert {item.product_id for item in with_bought} == {"lamp", "rug"}
        assert (
            strategy.recommend(user_id="buyer", product_id="oak-chair", k=10, exclude={"rug"}) == []
        )

    def test_the_product_on_screen_comes_back_only_when_asked(self) -> None:
        strategy = _fitted(_visits(["oak-chair", "oak-chair", "oak-table"], 3, "a"))
        default = [item.product_id for item in strategy.recommend(product_id="oak-chair", k=5)]
        assert "oak-chair" not in default
        included = strategy.recommend(product_id="oak-chair", k=5, include_context_product=True)
        assert "oak-chair" in [item.product_id for item in included]

    def test_unknown_products_and_shoppers_give_nothing(self) -> None:
        strategy = _fitted(_visits(["oak-chair", "oak-table"], 3, "a"))
        assert strategy.recommend(product_id="no-such-product", k=5) == []
        assert strategy.recommend(user_id="stranger", k=5) == []
        assert strategy.recommend(product_id="oak-chair", k=0) == []


class TestUserToItem:
    def test_a_known_shopper_gets_products_of_their_taste_explained(self) -> None:
        chairs = ["oak-chair", "pine-chair", "oak-stool"]
        sofas = ["grey-sofa", "blue-sofa", "cushion", "throw"]
        events = _visits(chairs, 12, "chairs") + _visits(sofas, 12, "sofas")
        events += visit("me", "me-s1", ["oak-chair", "pine-chair"], start=T0 + 20 * DAY)
        strategy = _fitted(events, factors=8, iterations=20)
        found = strategy.recommend(user_id="me", k=3)
        assert {item.product_id for item in found} == set(chairs)
        for item in found:
            assert item.reason in {
                "Based on your interest in Oak Chair",
                "Based on your interest in Pine Chair",
            }

    def test_without_events_the_model_still_answers(self) -> None:
        strategy = _fitted([])
        assert strategy.recommend(user_id="me", product_id="oak-chair", k=3) == []


@pytest.mark.parametrize("k", [1, 3])
def test_never_more_than_k(k: int) -> None:
    strategy = _fitted(_visits(["oak-chair", "oak-table", "lamp", "rug", "throw"], 3, "a"))
    assert len(strategy.recommend(product_id="oak-chair", k=k)) == k
