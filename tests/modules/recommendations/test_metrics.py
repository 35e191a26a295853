from __future__ import annotations

import math

import pytest

from mercato.modules.recommendations.metrics import (
    RankingTally,
    average_precision,
    hit,
    ndcg,
    reciprocal_rank,
)

RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b", "d"}


def test_hit_rate_counts_any_relevant_product_in_the_top_k() -> None:
    assert hit(RANKED, RELEVANT, 1) == 0.0
    assert hit(RANKED, RELEVANT, 2) == 1.0


def test_reciprocal_rank_is_one_over_the_first_relevant_rank() -> None:
    assert reciprocal_rank(RANKED, RELEVANT, 4) == 0.5
    assert reciprocal_rank(RANKED, {"d"}, 3) == 0.0
    assert reciprocal_rank(RANKED, {"d"}, 4) == 0.25


def test_ndcg_by_hand() -> None:
    # Relevant at ranks 2 and 4; the ideal list has them at ranks 1 and 2.
    gain = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert ndcg(RANKED, RELEVANT, 4) == pytest.approx(gain / ideal)
    assert ndcg(RANKED, RELEVANT, 3) == pytest.approx((1 / math.log2(3)) / ideal)
    assert ndcg(["b", "d"], RELEVANT, 2) == pytest.approx(1.0)
    assert ndcg(RANKED, set(), 4) == 0.0


def test_average_precision_by_hand() -> None:
    # Precision 1/2 at rank 2 and 2/4 at rank 4, over min(2 relevant, k).
    assert average_precision(RANKED, RELEVANT, 4) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert average_precision(RANKED, RELEVANT, 3) == pytest.approx((1 / 2) / 2)
    assert average_precision(RANKED, {"a", "b", "c"}, 2) == pytest.approx(1.0)


def test_tally_averages_over_queries_and_measures_coverage() -> None:
    tally = RankingTally(k=2, catalog_size=10)
    tally.add(["a", "b", "c"], {"b"})
    tally.add(["c", "d"], {"x"})
    assert tally.queries == 2
    assert tally.hit_rate == 0.5
    assert tally.mrr == pytest.approx(0.25)
    assert tally.ndcg == pytest.approx((1 / math.log2(3)) / 2)
    assert tally.map == pytest.approx(0.25)
    assert tally.coverage == pytest.approx(4 / 10)


def test_an_empty_tally_is_zero_not_an_error() -> None:
    tally = RankingTally(k=5, catalog_size=0)
    assert (tally.hit_rate, tally.mrr, tally.ndcg, tally.map, tally.coverage) == (0, 0, 0, 0, 0)
