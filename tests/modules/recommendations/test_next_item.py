from __future__ import annotations

from pathlib import Path

import pytest

from mercato.modules.recommendations.event_log import EventLog
from mercato.modules.recommendations.next_item import evaluate_next_item
from mercato.modules.recommendations.sessions import session_positions
from mercato.modules.recommendations.yoochoose import TRAIN_FILE, read_clicks, read_sample

from .shop import DAY, T0, visit

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


def _clicks(pattern: list[str], times: int, prefix: str, start: float = T0) -> list[dict]:
    return [
        event
        for number in range(times)
        for event in visit(f"{prefix}{number}", f"{prefix}{number}", pattern, start=start + number)
    ]


def test_positions_pair_the_clicks_so_far_with_the_next_click() -> None:
    test = EventLog.from_rows(
        visit("c", "c", ["z", "x"], start=T0 + 5)
        + visit("a", "a", ["x", "y", "z"])
        + visit("b", "b", ["y"])
    )
    found = [(query.visitor, query.earlier, query.target) for query in session_positions(test)]
    assert found == [("a", ["x"], "y"), ("a", ["x", "y"], "z"), ("c", ["z"], "x")]


def test_next_item_scores_by_hand() -> None:
    train = EventLog.from_rows(_clicks(["a", "b"], 6, "s") + _clicks(["b", "c"], 4, "t"))
    test = EventLog.from_rows(
        visit("x", "x", ["a", "b", "c"], start=T0 + DAY)
        + visit("y", "y", ["a", "zzz"], start=T0 + DAY)
    )
    report = evaluate_next_item(train, test, k=2, dataset="hand-made")
    assert (report.positions, report.unseen_targets, report.test_sessions) == (3, 1, 2)
    clicks = {row.method: row for row in report.all_clicks}
    # a → b and (a, b) → c are the top co-views; the unseen target is a miss.
    assert clicks["collaborative"].hit_rate == pytest.approx(2 / 3)
    assert clicks["collaborative"].mrr == pytest.approx(2 / 3)
    # Popularity: b (10 clicks), then a (6), then c (4): b is hit at rank 1, c missed.
    assert clicks["most_popular"].hit_rate == pytest.approx(1 / 3)
    assert clicks["most_popular"].mrr == pytest.approx(1 / 3)
    assert [row.method for row in report.product_page] == [row.method for row in report.all_clicks]


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not there")
def test_yoochoose_auto_beats_both_baselines_beyond_noise() -> None:
    sample = read_sample(SHARED_DATA)
    assert len(sample.train) == 70_278
    assert len(sample.test) == 13_568
    report = evaluate_next_item(sample.train, sample.test, k=20, dataset="yoochoose")
    assert report.positions == 10_152
    assert report.auto_choice is not None
    assert report.auto_choice.outcome == "blend"
    for reading, differences in (
        (report.all_clicks, report.all_clicks_differences),
        (report.product_page, report.product_page_differences),
    ):
        scores = {row.method: row for row in reading}
        ours, als = scores["collaborative"], scores["implicit_als"]
        assert ours.hit_rate > als.hit_rate
        assert ours.mrr > als.mrr
        against = {(row.against, row.measure): row.verdict for row in differences}
        for baseline in ("most_popular", "implicit_als"):
            assert against[baseline, "HR@20"] == against[baseline, "MRR@20"] == "better"
    clicks = {row.method: row for row in report.all_clicks}
    # Re-showing the product just viewed is what the blend adds to co-views here.
    assert clicks["auto"].mrr > clicks["collaborative"].mrr + 0.01
    published = {row.method: row for row in report.all_clicks}
    # The baselines reproduce the figures measured before any code existed.
    assert published["most_popular"].hit_rate == pytest.approx(0.088, abs=0.005)
    assert published["most_popular"].mrr == pytest.approx(0.026, abs=0.003)
    assert published["implicit_als"].hit_rate == pytest.approx(0.502, abs=0.03)
    assert published["implicit_als"].mrr == pytest.approx(0.317, abs=0.02)


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not there")
def test_yoochoose_clicks_become_view_events_of_anonymous_visitors() -> None:
    clicks = read_clicks(SHARED_DATA / TRAIN_FILE)
    assert set(clicks.type.tolist()) == {"view_item"}
    assert (clicks.user_id == clicks.session_id).all()
    assert clicks.timestamp.min() > 1.39e9
