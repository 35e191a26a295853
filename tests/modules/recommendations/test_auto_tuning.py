"""`auto` chooses its weights on the latest visits of each shop and is never worse than
the simple answers on two generated shop shapes (small and seeded, so this runs fast)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from mercato.modules.recommendations.auto_tuning import Candidates, choose_weights
from mercato.modules.recommendations.event_log import CatalogTable, EventLog
from mercato.modules.recommendations.fitting import fit_to_file
from mercato.modules.recommendations.next_item import NextItemReport, evaluate_sessions
from mercato.modules.recommendations.shop_shapes import Shape, generate
from mercato.modules.recommendations.strategies import AutoSettings, AutoStrategy, load_strategy

from .shop import T0, visit

SIZES = {Shape.repeats: 0.2, Shape.baskets: 0.12}


@cache
def _events(shape: Shape) -> EventLog:
    return EventLog.from_rows(generate(shape, 11, size=SIZES[shape]))


@cache
def _report(shape: Shape) -> NextItemReport:
    return evaluate_sessions(_events(shape), dataset=shape.value)


@pytest.mark.parametrize("shape", list(Shape))
def test_auto_is_not_below_popularity_or_als_beyond_noise(shape: Shape) -> None:
    report = _report(shape)
    for differences in (report.all_clicks_differences, report.product_page_differences):
        against = {(row.against, row.measure): row for row in differences}
        for baseline in ("most_popular", "implicit_als"):
            for measure in ("HR@20", "MRR@20"):
                assert against[baseline, measure].high >= 0, against[baseline, measure]
    for reading in (report.all_clicks, report.product_page):
        for row in reading:
            assert row.hit_rate_interval[0] <= row.hit_rate <= row.hit_rate_interval[1]
            assert row.mrr_interval[0] <= row.mrr <= row.mrr_interval[1]


def test_on_click_sessions_with_many_repeats_the_blend_shows_the_product_again() -> None:
    report = _report(Shape.repeats)
    choice = report.auto_choice
    assert choice is not None
    assert choice.outcome == "blend"
    assert choice.best_single == "co_viewed"
    assert choice.weights["on_screen"] > choice.weights["co_viewed"]
    assert choice.gain_interval[0] > 0
    clicks = {row.method: row for row in report.all_clicks}
    # implicit ALS wins such data by re-showing the product just viewed; auto does too.
    assert clicks["auto"].mrr > clicks["implicit_als"].mrr
    assert clicks["auto"].mrr > clicks["collaborative"].mrr


def test_on_invoices_with_weak_co_purchases_auto_serves_popularity() -> None:
    report = _report(Shape.baskets)
    choice = report.auto_choice
    assert choice is not None
    assert choice.best_single == "popular"
    assert choice.outcome == "single"
    assert {name for name, weight in choice.weights.items() if weight} == {"popular"}
    clicks = {row.method: row for row in report.all_clicks}
    assert clicks["auto"].hit_rate == pytest.approx(clicks["most_popular"].hit_rate, abs=0.002)


def test_too_few_held_out_visits_keep_the_default_weights() -> None:
    events = EventLog.from_rows(
        visit("a", "s1", ["lamp", "rug"], start=T0)
        + visit("b", "s2", ["lamp", "rug"], start=T0 + 9)
    )
    choice = choose_weights(events)
    assert choice.outcome == "defaults"
    assert choice.settings() == AutoSettings()


def test_the_chosen_weights_travel_with_the_model_and_answer_queries(tmp_path: Path) -> None:
    events = _events(Shape.repeats)
    products = sorted(set(events.product_id.tolist()))
    catalog = CatalogTable.from_rows({"product_id": product} for product in products)
    fit_to_file(events, catalog, tmp_path / "auto.npz")
    model = load_strategy(tmp_path / "auto.npz")
    assert isinstance(model, AutoStrategy)
    chosen = choose_weights(events, catalog)
    assert model.settings == chosen.settings() != AutoSettings()
    viewed = products[:3]
    # The product on screen comes back first only with the weight chosen for repeats,
    # and only when the caller allows it (a product page hides it by default).
    shown = model.recommend(
        product_id=viewed[-1], recently_viewed=viewed[:-1], k=5, include_context_product=True
    )
    assert shown[0].product_id == viewed[-1]
    assert shown[0].reason == f"You viewed {viewed[-1]}"
    hidden = model.recommend(product_id=viewed[-1], recently_viewed=viewed[:-1], k=5)
    assert viewed[-1] not in {item.product_id for item in hidden}
    model.settings = AutoSettings()
    default = model.recommend(
        product_id=viewed[-1], recently_viewed=viewed[:-1], k=5, include_context_product=True
    )
    assert [item.product_id for item in default] != [item.product_id for item in shown]


def test_the_product_page_reading_drops_the_product_on_screen() -> None:
    # Two queries: the first's target is its product on screen (a repeat), the second's
    # is another product that two sources propose.
    candidates = Candidates(
        sources=["co_viewed", "on_screen"],
        query=np.array([0, 0, 1, 1, 1]),
        product=np.array([3, 4, 3, 5, 6]),
        values=np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.5, 0.0]]),
        target_row=np.array([0, 4]),
        target=np.array([3, 6]),
        session=np.array([0, 1]),
        screen=np.array([3, 3]),
    )
    hits, ranks = candidates.rank(np.array([1.0, 2.0]), 20)
    assert hits.tolist() == [1.0, 1.0]
    assert ranks.tolist() == [1.0, 1 / 3]
    page = candidates.product_page()
    assert page.target.tolist() == [6]
    assert page.product.tolist() == [5, 6]
    hits, ranks = page.rank(np.array([1.0, 2.0]), 20)
    assert ranks.tolist() == [0.5]
