from __future__ import annotations

import numpy as np
import pytest

from mercato.modules.recommendations.evaluation import (
    NotEnoughEventsError,
    evaluate_holdout,
    held_out_interests,
    split_by_time,
)
from mercato.modules.recommendations.event_log import CatalogTable, EventLog

from .shop import DAY, T0, dataset, furniture, returning_shoppers, visit


def test_the_split_holds_out_the_last_days() -> None:
    events = EventLog.from_rows(
        visit("u", "s1", ["lamp"], start=T0)
        + visit("u", "s2", ["rug"], start=T0 + 10 * DAY)
        + visit("u", "s3", ["throw"], start=T0 + 8 * DAY)
    )
    train, test, cutoff = split_by_time(events, 3.0)
    assert cutoff == T0 + 7 * DAY
    assert train.product_id.tolist() == ["lamp"]
    assert sorted(test.product_id.tolist()) == ["rug", "throw"]


def test_held_out_interests_skip_strangers_unknown_products_and_past_purchases() -> None:
    train = dataset(
        visit("u1", "s1", ["lamp"], kind="purchase", order="o1") + visit("u2", "s2", ["rug"])
    )
    later = EventLog.from_rows(
        visit("u1", "s3", ["lamp", "rug", "brand-new"], start=T0 + DAY)
        + visit("stranger", "s4", ["rug"], start=T0 + DAY)
        + visit("u2", "s5", ["throw"], start=T0 + DAY, kind="impression")
    )
    interests = held_out_interests(train, later)
    u1 = int(np.flatnonzero(train.user_ids == "u1")[0])
    assert interests == {u1: {"rug"}}


class TestHoldout:
    def test_every_strategy_and_both_baselines_are_scored_on_the_same_shoppers(self) -> None:
        events = EventLog.from_rows(returning_shoppers())
        report = evaluate_holdout(events, CatalogTable.from_rows(furniture()), holdout_days=7, k=3)
        methods = [row.method for row in report.scores]
        assert methods == [
            "collaborative",
            "content_based",
            "trending",
            "frequently_bought_together",
            "auto",
            "most_popular",
            "implicit_als",
        ]
        assert report.users == 30
        assert {row.users for row in report.scores} == {30}
        by_method = {row.method: row for row in report.scores}
        for row in report.scores:
            assert 0.0 <= row.map <= row.hit_rate <= 1.0
            assert 0.0 <= row.ndcg <= 1.0
            assert 0.0 < row.coverage <= 1.0 or row.method == "frequently_bought_together"
        # Shoppers keep to their taste: personal strategies must beat one list for all.
        assert by_method["auto"].ndcg > by_method["most_popular"].ndcg
        assert by_method["collaborative"].hit_rate > by_method["most_popular"].hit_rate

    def test_no_returning_shopper_is_an_error_not_a_zero(self) -> None:
        events = EventLog.from_rows(
            visit("u1", "s1", ["lamp"], start=T0) + visit("u2", "s2", ["rug"], start=T0 + 9 * DAY)
        )
        with pytest.raises(NotEnoughEventsError, match="came back"):
            evaluate_holdout(events, holdout_days=2)

    def test_nothing_before_the_holdout_is_an_error(self) -> None:
        events = EventLog.from_rows(visit("u1", "s1", ["lamp"], start=T0))
        with pytest.raises(NotEnoughEventsError):
            evaluate_holdout(events, holdout_days=2)
        with pytest.raises(NotEnoughEventsError):
            evaluate_holdout(EventLog.from_rows([]))

    def test_the_fit_jobs_scores_leave_the_baselines_out_and_sample_the_shoppers(self) -> None:
        events = EventLog.from_rows(returning_shoppers())
        catalog = CatalogTable.from_rows(furniture())
        whole = evaluate_holdout(events, catalog, holdout_days=7, k=3)
        sampled = evaluate_holdout(
            events, catalog, holdout_days=7, k=3, baselines=False, max_users=12
        )
        assert [row.method for row in sampled.scores] == [
            "collaborative",
            "content_based",
            "trending",
            "frequently_bought_together",
            "auto",
        ]
        assert "implicit_als" not in sampled.fit_seconds
        assert sampled.users == 12
        assert {row.users for row in sampled.scores} == {12}
        # The same sample every time, and a large enough cap changes nothing.
        again = evaluate_holdout(events, catalog, holdout_days=7, k=3, max_users=12)
        assert [row.hit_rate for row in again.scores[:5]] == [
            row.hit_rate for row in sampled.scores
        ]
        capped = evaluate_holdout(events, catalog, holdout_days=7, k=3, max_users=30)
        assert [row.ndcg for row in capped.scores] == [row.ndcg for row in whole.scores]
