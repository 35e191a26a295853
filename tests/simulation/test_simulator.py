from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mercato.modules.tracking.event_doc import EVENT_TYPES, TrackedEvent
from mercato.simulation.catalog import (
    Catalog,
    LocationDoc,
    generate_catalog,
    generate_locations,
)
from mercato.simulation.plan import SimulationPlan
from mercato.simulation.simulator import (
    orders_from_events,
    plan_simulation,
    simulate,
    simulate_orders,
    summarize,
)

END = datetime(2025, 6, 2, tzinfo=UTC)  # a Monday
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
REQUIRED = {
    "page_view": {"properties"},
    "view_item": {"product_id", "price", "currency"},
    "search": {"query", "results_count"},
    "add_to_cart": {"product_id", "quantity", "price", "currency"},
    "remove_from_cart": {"product_id", "quantity", "price", "currency"},
    "begin_checkout": {"currency", "properties"},
    "purchase": {"product_id", "quantity", "price", "revenue", "currency", "properties"},
    "impression": {"product_id", "placement", "strategy"},
    "click": {"product_id", "placement", "strategy"},
}


class Run:
    """One 42-day simulation shared (read-only) by the behaviour tests of this module."""

    def __init__(self) -> None:
        self.catalog = generate_catalog(products=400, seed=3, until=END)
        self.locations = generate_locations(3)
        arguments: dict[str, Any] = {
            "catalog": self.catalog,
            "locations": self.locations,
            "days": 42,
            "users": 3000,
            "seed": 21,
            "end": END,
        }
        self.plan: SimulationPlan = plan_simulation(**arguments)
        self.events: tuple[TrackedEvent, ...] = tuple(simulate(**arguments))

    def of_type(self, kind: str) -> list[TrackedEvent]:
        return [e for e in self.events if e["type"] == kind]

    def orders(self) -> dict[str, list[TrackedEvent]]:
        lines = defaultdict(list)
        for event in self.of_type("purchase"):
            lines[event["properties"]["order_id"]].append(event)
        return lines


@pytest.fixture(scope="module")
def run() -> Run:
    return Run()


def _small(seed: int, **overrides: Any) -> list[TrackedEvent]:
    arguments: dict[str, Any] = {
        "catalog": generate_catalog(products=120, seed=1, until=END),
        "locations": generate_locations(1, n=3),
        "days": 10,
        "users": 300,
        "seed": seed,
        "end": END,
    }
    return list(simulate(**(arguments | overrides)))


def _local(event: TrackedEvent, locations: list[LocationDoc]) -> datetime:
    zone = {loc["code"]: loc["timezone"] for loc in locations}[event["location_code"]]
    moment = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(zone))


class TestDeterminism:
    def test_same_arguments_give_the_same_events(self) -> None:
        assert _small(5) == _small(5)

    def test_another_seed_gives_other_events(self) -> None:
        assert [e["event_id"] for e in _small(5)] != [e["event_id"] for e in _small(6)]

    def test_plan_matches_the_simulated_shoppers(self, run: Run) -> None:
        known = {shopper.user_id for shopper in run.plan.shoppers}
        assert {e["user_id"] for e in run.events} <= known
        assert len(run.plan.shoppers) == 3000


class TestEventShape:
    def test_events_are_in_time_order_inside_the_period(self, run: Run) -> None:
        stamps = [e["timestamp"] for e in run.events]
        assert all(STAMP.fullmatch(s) for s in stamps)
        assert stamps == sorted(stamps)
        assert stamps[0] >= (END - timedelta(days=42)).strftime("%Y-%m-%dT%H:%M:%S")
        assert stamps[-1] < END.strftime("%Y-%m-%dT%H:%M:%S")

    def test_every_event_has_its_type_fields_and_a_unique_id(self, run: Run) -> None:
        assert {e["type"] for e in run.events} == set(EVENT_TYPES)
        assert len({e["event_id"] for e in run.events}) == len(run.events)
        for event in run.events:
            assert REQUIRED[event["type"]] <= set(event)
            assert {"user_id", "session_id", "event_id", "timestamp", "location_code"} <= set(event)
            assert event["session_id"].startswith(event["user_id"] + "-")

    def test_warehouse_is_never_a_location_of_events(self, run: Run) -> None:
        warehouse = [loc["code"] for loc in run.locations if loc["kind"] == "warehouse"]
        assert warehouse
        assert not {e["location_code"] for e in run.events} & set(warehouse)

    def test_without_locations_events_have_no_location(self) -> None:
        events = _small(2, locations=[], users=20, days=3)
        assert events
        assert all("location_code" not in e for e in events)

    def test_tiny_catalog_and_single_shopper_still_work(self) -> None:
        catalog = generate_catalog(products=1, seed=1, until=END)
        events = _small(2, catalog=catalog, users=1, days=1)
        assert {e["user_id"] for e in events} == {"u000001"}

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [({"days": 0}, "days"), ({"users": 0}, "users"), ({"end": datetime(2025, 1, 1)}, "end")],
    )
    def test_bad_arguments_are_refused(self, overrides: dict[str, Any], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            _small(1, **overrides)

    def test_empty_catalog_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least one product"):
            _small(1, catalog=Catalog([], [], {}, {}))


class TestRevenue:
    def test_lines_add_up_to_the_order_revenue(self, run: Run) -> None:
        for lines in run.orders().values():
            total = sum(Decimal(line["revenue"]) for line in lines)
            assert {line["properties"]["order_revenue"] for line in lines} == {f"{total:.2f}"}
            for line in lines:
                assert Decimal(line["revenue"]) == Decimal(line["price"]) * line["quantity"]
            assert len({line["product_id"] for line in lines}) == len(lines)
            assert len({(line["session_id"], line["timestamp"]) for line in lines}) == 1

    def test_orders_agree_with_purchase_events(self, run: Run) -> None:
        summary = summarize(run.events)
        orders = list(orders_from_events(run.events, run.plan))
        emails = {shopper.user_id: shopper.email for shopper in run.plan.shoppers}
        assert len(orders) == summary.orders == len(run.orders())
        assert sum(order.total for order in orders) == summary.revenue > 0
        assert all(order.email == emails[order.user_id] for order in orders)
        assert {order.channel for order in orders} == {"web", "store"}
        assert sum(len(order.items) > 1 for order in orders) / len(orders) > 0.15

    def test_simulate_orders_runs_the_same_simulation(self) -> None:
        arguments: dict[str, Any] = {
            "catalog": generate_catalog(products=120, seed=1, until=END),
            "locations": generate_locations(1, n=3),
            "days": 10,
            "users": 300,
            "seed": 4,
            "end": END,
        }
        orders = simulate_orders(**arguments)
        purchases = [e for e in simulate(**arguments) if e["type"] == "purchase"]
        assert sum(len(order.items) for order in orders) == len(purchases)
        assert sum(o.total for o in orders) == sum(Decimal(e["revenue"]) for e in purchases)


class TestShopperBehaviour:
    def test_funnel_narrows_from_views_to_purchases(self, run: Run) -> None:
        counts = Counter(e["type"] for e in run.events)
        web_orders = {
            e["properties"]["order_id"]
            for e in run.of_type("purchase")
            if e["properties"]["channel"] == "web"
        }
        assert counts["view_item"] > 10 * counts["add_to_cart"]
        assert counts["add_to_cart"] > counts["begin_checkout"] > len(web_orders)
        assert 0.01 < len(web_orders) / counts["page_view"] < 0.1
        assert counts["remove_from_cart"] > 0

    def test_returning_shoppers_check_out_carts_filled_in_earlier_visits(self, run: Run) -> None:
        carted: dict[tuple[str, str], str] = {}
        for event in run.of_type("add_to_cart"):
            carted.setdefault((event["user_id"], event["product_id"]), event["session_id"])
        later = [
            e
            for e in run.of_type("purchase")
            if carted.get((e["user_id"], e["product_id"]), e["session_id"]) != e["session_id"]
        ]
        assert later
        assert max(e["properties"]["session_number"] for e in run.of_type("page_view")) > 5

    def test_visits_browse_related_categories(self, run: Run) -> None:
        category = {p["product_id"]: p["category"] for p in run.catalog.products}
        related = total = 0
        previous: dict[str, str] = {}
        for event in run.of_type("view_item"):
            leaf = category[event["product_id"]]
            before = previous.get(event["session_id"])
            if before is not None:
                total += 1
                related += before == leaf or leaf in run.catalog.complements[before]
            previous[event["session_id"]] = leaf
        assert related / total > 0.5

    def test_web_traffic_peaks_on_sundays_and_in_the_evening(self, run: Run) -> None:
        views = [_local(e, run.locations) for e in run.of_type("page_view")]
        weekdays = Counter(moment.weekday() for moment in views)
        hours = Counter(moment.hour for moment in views)
        assert weekdays.most_common(1)[0][0] == 6
        assert hours.most_common(1)[0][0] in range(18, 23)
        assert hours[20] > 5 * hours[4]

    def test_store_purchases_happen_in_opening_hours_monday_to_saturday(self, run: Run) -> None:
        store = [e for e in run.of_type("purchase") if e["properties"]["channel"] == "store"]
        assert store
        for event in store:
            moment = _local(event, run.locations)
            assert moment.weekday() != 6
            assert 9 <= moment.hour < 21
        assert not any("page" in e.get("properties", {}) for e in store)


class TestFunnel:
    """Journeys are internally consistent and land in published e-commerce benchmark ranges."""

    @staticmethod
    def _sessions(run: Run) -> dict[str, list[TrackedEvent]]:
        sessions: dict[str, list[TrackedEvent]] = defaultdict(list)
        for event in run.events:
            sessions[event["session_id"]].append(event)
        return sessions

    def test_every_purchase_follows_a_checkout_in_its_session(self, run: Run) -> None:
        purchases = 0
        for events in self._sessions(run).values():
            checked_out = False
            for event in events:
                checked_out = checked_out or event["type"] == "begin_checkout"
                if event["type"] == "purchase":
                    purchases += 1
                    assert checked_out, event
        assert purchases > 100

    def test_conversion_and_cart_abandonment_are_in_benchmark_ranges(self, run: Run) -> None:
        sessions = self._sessions(run)
        did = Counter(kind for events in sessions.values() for kind in {e["type"] for e in events})
        conversion = did["purchase"] / len(sessions)
        assert 0.01 <= conversion <= 0.04
        assert 0.05 <= did["add_to_cart"] / len(sessions) <= 0.12
        assert did["purchase"] < did["begin_checkout"] < did["add_to_cart"] < did["view_item"]
        assert 0.55 <= 1 - did["purchase"] / did["add_to_cart"] <= 0.8  # carts abandoned

    def test_shoppers_come_back(self, run: Run) -> None:
        visits = Counter(events[0]["user_id"] for events in self._sessions(run).values())
        returning = sum(1 for count in visits.values() if count > 1)
        assert 0.2 < returning / len(visits) < 0.9


class TestPlantedBehaviours:
    def test_bundle_partners_join_their_anchor_in_most_carts(self, run: Run) -> None:
        """Counted on carts (a session's add_to_cart events): orders are only ~3 % of
        sessions, too few to measure a 70 % take rate per anchor."""
        carts: dict[str, set[str]] = defaultdict(set)
        for event in run.of_type("add_to_cart"):
            carts[event["session_id"]].add(event["product_id"])
        baskets = list(carts.values())
        with_anchor = with_both = 0
        for anchor, partner in run.plan.bundles:
            anchored = [basket for basket in baskets if anchor in basket]
            with_anchor += len(anchored)
            with_both += sum(partner in basket for basket in anchored)
            base_rate = sum(partner in basket for basket in baskets) / len(baskets)
            assert base_rate < 0.05
        assert len(run.plan.bundles) == 10
        assert with_anchor > 20
        assert with_both / with_anchor > 0.5

    def test_gap_queries_find_nothing_and_lead_the_zero_result_searches(self, run: Run) -> None:
        searches = run.of_type("search")
        gaps = set(run.plan.gap_queries)
        assert len(gaps) >= 8
        assert all(e["results_count"] == 0 for e in searches if e["query"] in gaps)
        zero = Counter(e["query"] for e in searches if e["results_count"] == 0)
        assert {query for query, _ in zero.most_common(5)} <= gaps

    def test_misspelt_searches_report_the_intended_words_results(self, run: Run) -> None:
        typos = run.plan.typo_queries
        assert typos["chiar"] == "chair"
        intended_counts = {e["query"]: e["results_count"] for e in run.of_type("search")}
        misspelt = [e for e in run.of_type("search") if e["query"].split()[-1] in typos]
        assert len(misspelt) > 20
        for event in misspelt:
            words = event["query"].split()
            intended = " ".join([*words[:-1], typos[words[-1]]])
            assert event["results_count"] > 0
            assert intended_counts.get(intended, event["results_count"]) == event["results_count"]
        names = " ".join(p["name"].lower() for p in run.catalog.products)
        assert not any(re.search(rf"\b{typo}\b", names) for typo in typos)

    def test_abandoners_fill_carts_but_never_buy(self, run: Run) -> None:
        abandoners = {s.user_id for s in run.plan.shoppers if s.abandoner}
        assert 0.01 < len(abandoners) / len(run.plan.shoppers) < 0.06
        carted = {e["user_id"] for e in run.of_type("add_to_cart")} & abandoners
        assert len(carted) > len(abandoners) / 3
        assert not {e["user_id"] for e in run.of_type("purchase")} & abandoners

    def test_trending_product_views_jump_in_the_last_week(self, run: Run) -> None:
        since = run.plan.trending_since.strftime("%Y-%m-%dT%H:%M:%S")
        views = [
            e for e in run.of_type("view_item") if e["product_id"] == run.plan.trending_product_id
        ]
        recent = sum(e["timestamp"] >= since for e in views)
        earlier_days = (run.plan.trending_since - run.plan.start).days
        assert recent / 7 > 5 * max(1, len(views) - recent) / earlier_days

    def test_experiment_variant_gets_about_twice_the_control_click_through(self, run: Run) -> None:
        test = run.plan.experiment
        shown: Counter[str] = Counter()
        clicked: Counter[str] = Counter()
        for event in run.events:
            if event.get("experiment_id") == test.experiment_id:
                (shown if event["type"] == "impression" else clicked)[event["variant"]] += 1
                strategy = (
                    test.variant_strategy
                    if event["variant"] == "variant"
                    else test.control_strategy
                )
                assert event["strategy"] == strategy
                assert event["placement"] == test.placement
        ratio = (clicked["variant"] / shown["variant"]) / (clicked["control"] / shown["control"])
        assert 1.5 < ratio < 2.8

    def test_experiment_arms_follow_the_api_bucket_rule(self, run: Run) -> None:
        test = run.plan.experiment
        arms = {s.user_id: s.variant for s in run.plan.shoppers}
        for event in run.events:
            if event.get("experiment_id") == test.experiment_id:
                digest = hashlib.sha256(f"{test.experiment_id}:{event['user_id']}".encode())
                bucket = int(digest.hexdigest(), 16) % 100
                expected = "control" if bucket < test.traffic_split else "variant"
                assert event["variant"] == arms[event["user_id"]] == expected

    def test_flagship_store_earns_the_most_revenue(self, run: Run) -> None:
        revenue: Counter[str] = Counter()
        for event in run.of_type("purchase"):
            revenue[event["location_code"]] += int(Decimal(event["revenue"]) * 100)
        assert run.plan.flagship_location == run.locations[0]["code"]
        assert revenue.most_common(1)[0][0] == run.plan.flagship_location
        assert len(revenue) >= 3

    def test_loyal_shoppers_return_far_more_often(self, run: Run) -> None:
        sessions = defaultdict(set)
        for event in run.events:
            sessions[event["user_id"]].add(event["session_id"])
        loyal = {s.user_id for s in run.plan.shoppers if s.loyal}
        loyal_visits = mean(len(sessions[u]) for u in loyal if u in sessions)
        other_visits = mean(len(v) for u, v in sessions.items() if u not in loyal)
        assert loyal_visits > 3 * other_visits
