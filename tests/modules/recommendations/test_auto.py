from __future__ import annotations

from mercato.modules.recommendations.strategies import AutoStrategy

from .shop import DAY, T0, dataset, furniture, visit


def _fitted(events: list[dict], catalog=None) -> AutoStrategy:
    strategy = AutoStrategy()
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


class TestColdStart:
    def test_a_shop_without_behaviour_shows_its_newest_available_products(self) -> None:
        catalog = furniture(
            lamp={"created_at": T0 + 3 * DAY},
            rug={"created_at": T0 + 2 * DAY, "deleted": True},
            throw={"created_at": T0 + 1 * DAY},
            cushion={"created_at": T0 + 4 * DAY, "available": False},
        )
        found = _fitted([], catalog).recommend(user_id="anyone", k=3)
        assert [item.product_id for item in found][:2] == ["lamp", "throw"]
        assert {item.reason for item in found} == {"New arrival"}
        assert len(found) == 3

    def test_a_new_product_gets_similar_products(self) -> None:
        strategy = _fitted(
            _visits(["oak-chair", "oak-table"], 4, "a") + _visits(["lamp", "rug"], 4, "b")
        )
        found = strategy.recommend(product_id="pine-chair", k=2)
        assert {item.product_id for item in found} == {"oak-chair", "oak-stool"}
        assert {item.reason for item in found} == {"Similar to Pine Chair"}

    def test_a_new_shopper_on_a_product_page_sees_what_trends_in_its_category(self) -> None:
        events = _visits(["grey-sofa", "cushion"], 4, "a") + _visits(["blue-sofa"], 6, "b")
        found = _fitted(events).recommend(user_id="newcomer", product_id="grey-sofa", k=3)
        reasons = {item.product_id: item.reason for item in found}
        assert reasons["cushion"] == "Often viewed together with Grey Sofa"
        assert reasons["blue-sofa"] == "Trending in Sofas"

    def test_an_unknown_shopper_without_context_gets_what_trends(self) -> None:
        found = _fitted(_visits(["lamp", "rug"], 3, "a") + _visits(["lamp"], 3, "b")).recommend(k=2)
        assert [item.product_id for item in found] == ["lamp", "rug"]
        assert {item.reason for item in found} == {"Trending now"}


class TestBlend:
    def test_co_views_lead_on_a_product_page_and_complements_join(self) -> None:
        events = _visits(["oak-chair", "oak-table"], 6, "a")
        events += [
            event
            for number in range(3)
            for event in visit(
                f"b{number}",
                f"b-s{number}",
                ["oak-chair", "oak-stool"],
                kind="purchase",
                order=f"o{number}",
                start=T0 + number * DAY,
            )
        ]
        events += _visits(["lamp", "rug"], 3, "c")
        found = _fitted(events).recommend(product_id="oak-chair", k=4)
        reasons = {item.product_id: item.reason for item in found}
        assert found[0].product_id in {"oak-table", "oak-stool"}
        assert reasons["oak-table"] == "Often viewed together with Oak Chair"
        assert "oak-stool" in reasons
        assert all(item.reason for item in found)

    def test_a_known_shopper_gets_personal_products_and_never_what_they_bought(self) -> None:
        events = _visits(["oak-chair", "pine-chair", "oak-stool"], 8, "chairs")
        events += _visits(["grey-sofa", "blue-sofa", "cushion"], 8, "sofas")
        events += visit("me", "me-1", ["oak-chair"], kind="purchase", order="mine", start=T0)
        events += visit("me", "me-2", ["pine-chair"], start=T0 + DAY)
        found = _fitted(events).recommend(user_id="me", k=3)
        ids = [item.product_id for item in found]
        assert "oak-chair" not in ids
        assert "oak-stool" in ids
        assert all(item.reason for item in found)

    def test_the_list_is_filled_up_to_k_with_trending_then_newest(self) -> None:
        found = _fitted(_visits(["oak-chair", "oak-table"], 3, "a")).recommend(
            product_id="oak-chair", k=9
        )
        ids = [item.product_id for item in found]
        assert len(ids) == len(set(ids)) == 9
        assert ids[0] == "oak-table"
        assert "oak-chair" not in ids
        assert found[-1].reason == "New arrival"
        scores = [item.score for item in found]
        assert scores == sorted(scores, reverse=True)
