from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from mercato.modules.recommendations.event_log import CatalogTable, EventLog
from mercato.modules.recommendations.interactions import (
    InteractionSettings,
    Signal,
    build_interactions,
    positions,
)

from .shop import DAY, MINUTE, T0, dataset, furniture, visit


def _weight(data, user: str, product_id: str) -> float:
    user_index = int(np.flatnonzero(data.user_ids == user)[0])
    product_index = int(np.flatnonzero(data.products.product_id == product_id)[0])
    return float(data.user_items[user_index, product_index])


class TestWeights:
    def test_purchase_outweighs_cart_outweighs_view_at_the_same_time(self) -> None:
        events = [
            *visit("u1", "s1", ["oak-chair"], kind="view_item"),
            *visit("u2", "s2", ["oak-chair"], kind="add_to_cart"),
            *visit("u3", "s3", ["oak-chair"], kind="purchase", order="o3"),
        ]
        data = dataset(events)
        view, cart, bought = (_weight(data, user, "oak-chair") for user in ("u1", "u2", "u3"))
        assert view == pytest.approx(1.0)
        assert cart == pytest.approx(3.0)
        assert bought == pytest.approx(5.0)

    def test_weight_halves_after_one_half_life(self) -> None:
        events = [
            *visit("old", "s1", ["oak-chair"], start=T0),
            *visit("new", "s2", ["oak-chair"], start=T0 + 10 * DAY),
        ]
        data = dataset(events, settings=InteractionSettings(half_life_days=10.0))
        assert data.now == T0 + 10 * DAY
        assert _weight(data, "new", "oak-chair") == pytest.approx(1.0)
        assert _weight(data, "old", "oak-chair") == pytest.approx(0.5)

    def test_repeated_views_add_up(self) -> None:
        data = dataset(visit("u1", "s1", ["lamp", "lamp", "lamp"]), now=T0 + 2 * MINUTE)
        assert _weight(data, "u1", "lamp") == pytest.approx(3.0, rel=1e-4)

    def test_events_without_product_interest_are_left_out(self) -> None:
        events = [
            *visit("u1", "s1", ["oak-chair"], kind="impression"),
            *visit("u1", "s1", ["lamp"], kind="search"),
            {"user_id": "u1", "session_id": "s1", "type": "page_view", "timestamp": T0},
        ]
        data = dataset(events)
        assert len(data.events) == 0
        assert data.user_items.nnz == 0

    @pytest.mark.parametrize(
        "settings",
        [
            {"view_weight": 4.0, "cart_weight": 3.0},
            {"cart_weight": 6.0, "purchase_weight": 5.0},
            {"view_weight": 0.0},
            {"half_life_days": 0.0},
        ],
    )
    def test_weights_must_keep_view_below_cart_below_purchase(self, settings: dict) -> None:
        with pytest.raises(ValueError, match="must"):
            InteractionSettings(**settings)


class TestIndexes:
    def test_products_and_users_are_indexed_by_sorted_id(self) -> None:
        data = dataset(visit("zoe", "s1", ["rug", "lamp"]) + visit("adam", "s2", ["lamp"]))
        assert data.user_ids.tolist() == ["adam", "zoe"]
        assert data.products.product_id.tolist() == sorted(row["product_id"] for row in furniture())
        found = positions(data.products.product_id, np.array(["lamp", "nope", "rug"]))
        assert data.products.product_id[found[0]] == "lamp"
        assert found[1] == -1

    def test_products_only_seen_in_events_are_indexed_but_not_recommendable(self) -> None:
        data = dataset(visit("u1", "s1", ["oak-chair", "ghost"]))
        ghost = int(np.flatnonzero(data.products.product_id == "ghost")[0])
        assert not data.products.available[ghost]
        chair = int(np.flatnonzero(data.products.product_id == "oak-chair")[0])
        assert data.products.available[chair]
        assert data.products.name[chair] == "Oak Chair"

    def test_without_a_catalog_every_product_seen_is_available(self) -> None:
        data = build_interactions(EventLog.from_rows(visit("u1", "s1", ["a", "b"])))
        assert data.products.product_id.tolist() == ["a", "b"]
        assert data.products.available.all()

    def test_purchases_are_remembered_per_user(self) -> None:
        data = dataset(
            visit("u1", "s1", ["lamp"], kind="purchase", order="o1") + visit("u1", "s1", ["rug"])
        )
        bought = data.products.product_id[data.purchased[0].indices]
        assert bought.tolist() == ["lamp"]


class TestSessionsAndBaskets:
    def test_missing_session_ids_split_on_thirty_minutes_of_inactivity(self) -> None:
        rows = [
            {"user_id": "u1", "type": "view_item", "product_id": "a", "timestamp": T0},
            {"user_id": "u1", "type": "view_item", "product_id": "b", "timestamp": T0 + 600},
            {"user_id": "u1", "type": "view_item", "product_id": "c", "timestamp": T0 + 4_000},
            {"user_id": "u2", "type": "view_item", "product_id": "d", "timestamp": T0 + 4_010},
            {
                "user_id": "u3",
                "session_id": "tracked",
                "type": "view_item",
                "product_id": "e",
                "timestamp": T0,
            },
        ]
        data = build_interactions(EventLog.from_rows(rows))
        session_of = dict(
            zip(
                data.products.product_id[data.events.product].tolist(),
                data.events.session.tolist(),
                strict=True,
            )
        )
        assert session_of["a"] == session_of["b"]
        assert len({session_of["b"], session_of["c"], session_of["d"], session_of["e"]}) == 4

    def test_purchases_group_by_order_id_or_else_by_session(self) -> None:
        events = [
            *visit("u1", "s1", ["lamp", "rug"], kind="purchase", order="o1"),
            *visit("u1", "s1", ["throw"], kind="purchase", order="o2"),
            *visit("u2", "s2", ["cushion", "throw"], kind="purchase"),
            *visit("u2", "s2", ["oak-chair"]),
        ]
        data = dataset(events)
        basket_of = {}
        for product_index, basket, signal in zip(
            data.events.product, data.events.basket, data.events.signal, strict=True
        ):
            name = str(data.products.product_id[product_index])
            basket_of[name] = int(basket)
            if signal != Signal.PURCHASE:
                assert basket == -1
        assert basket_of["lamp"] == basket_of["rug"] != basket_of["throw"]
        assert basket_of["cushion"] >= 0

    def test_events_are_sorted_by_session_then_time(self) -> None:
        events = visit("u1", "s2", ["lamp", "rug"], start=T0) + visit(
            "u1", "s1", ["a", "b"], start=T0 + 5
        )
        data = build_interactions(EventLog.from_rows(list(reversed(events))))
        keys = list(zip(data.events.session.tolist(), data.events.time.tolist(), strict=True))
        assert keys == sorted(keys)


class TestRows:
    def test_timestamps_are_read_from_rfc3339_datetimes_and_numbers(self) -> None:
        moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        log = EventLog.from_rows(
            [
                {"user_id": "u", "type": "view_item", "product_id": "p", "timestamp": moment},
                {
                    "user_id": "u",
                    "type": "view_item",
                    "product_id": "p",
                    "timestamp": "2024-05-01T12:00:00Z",
                },
                {
                    "user_id": "u",
                    "type": "view_item",
                    "product_id": "p",
                    "timestamp": moment.timestamp(),
                },
            ]
        )
        assert log.timestamp.tolist() == [moment.timestamp()] * 3

    def test_catalog_rows_flatten_category_lists_and_attributes(self) -> None:
        table = CatalogTable.from_rows(
            [
                {
                    "product_id": "p",
                    "category": ["Home", " Chairs "],
                    "attributes": {"colour": ["red", "blue"]},
                }
            ]
        )
        assert table.category.tolist() == ["Home > Chairs"]
        assert table.attributes.tolist() == ["colour red colour blue"]
        assert table.available.tolist() == [True]
