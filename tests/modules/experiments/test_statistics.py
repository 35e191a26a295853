"""Our results equal gbstats' output computed independently from per-user raw data."""

from __future__ import annotations

import numpy as np
import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import ProportionStatistic, RatioStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

from mercato.modules.experiments.statistics import VariantTotals, compare


def _shoppers(rng: np.random.Generator, users: int, click_rate: float, buy_rate: float) -> dict:
    impressions = rng.integers(1, 6, size=users)
    clicks = rng.binomial(impressions, click_rate)
    bought = rng.random(users) < buy_rate
    revenue = np.where(bought, rng.gamma(2.0, 30.0, size=users), 0.0)
    return {"impressions": impressions, "clicks": clicks, "bought": bought, "revenue": revenue}


def _totals(raw: dict) -> VariantTotals:
    impressions, clicks = raw["impressions"].astype(float), raw["clicks"].astype(float)
    return VariantTotals(
        users=len(impressions),
        impressions=int(impressions.sum()),
        impressions_squared=float((impressions**2).sum()),
        clicks=int(clicks.sum()),
        clicks_squared=float((clicks**2).sum()),
        clicks_times_impressions=float((clicks * impressions).sum()),
        conversions=int(raw["bought"].sum()),
        revenue=float(raw["revenue"].sum()),
        revenue_squared=float((raw["revenue"] ** 2).sum()),
    )


def _gbstats_statistic(raw: dict, metric: str):
    n = len(raw["impressions"])
    if metric == "conversion_rate":
        return ProportionStatistic(n=n, sum=int(np.count_nonzero(raw["bought"])))
    if metric == "revenue_per_user":
        revenue = raw["revenue"]
        return SampleMeanStatistic(n=n, sum=revenue.sum(), sum_squares=np.dot(revenue, revenue))
    clicks, impressions = raw["clicks"].astype(float), raw["impressions"].astype(float)
    return RatioStatistic(
        n=n,
        m_statistic=SampleMeanStatistic(n=n, sum=clicks.sum(), sum_squares=np.dot(clicks, clicks)),
        d_statistic=SampleMeanStatistic(
            n=n, sum=impressions.sum(), sum_squares=np.dot(impressions, impressions)
        ),
        m_d_sum_of_products=np.dot(clicks, impressions),
    )


@pytest.mark.parametrize("metric", ["ctr", "conversion_rate", "revenue_per_user"])
@pytest.mark.parametrize("sequential", [False, True])
def test_results_equal_gbstats_on_the_raw_per_user_data(metric: str, sequential: bool) -> None:
    rng = np.random.default_rng(7)
    control = _shoppers(rng, 2_000, click_rate=0.10, buy_rate=0.05)
    variant = _shoppers(rng, 2_100, click_rate=0.12, buy_rate=0.06)

    ours = compare(
        _totals(control), _totals(variant), metric=metric, traffic_split=50, sequential=sequential
    )

    stat_a, stat_b = _gbstats_statistic(control, metric), _gbstats_statistic(variant, metric)
    test = (
        SequentialTwoSidedTTest(stat_a, stat_b, SequentialConfig(alpha=0.05))
        if sequential
        else TwoSidedTTest(stat_a, stat_b, FrequentistConfig(alpha=0.05))
    )
    expected = test.compute_result()
    bayes = EffectBayesianABTest(stat_a, stat_b, EffectBayesianConfig()).compute_result()
    assert ours.lift == pytest.approx(expected.expected, rel=1e-9)
    assert ours.ci_low == pytest.approx(expected.ci[0], rel=1e-9)
    assert ours.ci_high == pytest.approx(expected.ci[1], rel=1e-9)
    assert ours.p_value == pytest.approx(expected.p_value, rel=1e-9)
    assert ours.chance_to_win == pytest.approx(bayes.chance_to_win, rel=1e-9)
    assert ours.srm_p_value == pytest.approx(check_srm([2_000, 2_100], [50, 50]), rel=1e-9)
    assert ours.ci_low < ours.lift < ours.ci_high


def test_sequential_intervals_are_wider_than_fixed_horizon_ones() -> None:
    rng = np.random.default_rng(11)
    control = _totals(_shoppers(rng, 3_000, 0.1, 0.05))
    variant = _totals(_shoppers(rng, 3_000, 0.1, 0.05))
    fixed = compare(control, variant, metric="ctr", traffic_split=50, sequential=False)
    always_valid = compare(control, variant, metric="ctr", traffic_split=50, sequential=True)
    assert always_valid.ci_high - always_valid.ci_low > fixed.ci_high - fixed.ci_low


def test_a_lopsided_split_is_flagged_by_the_srm_check() -> None:
    rng = np.random.default_rng(3)
    control = _totals(_shoppers(rng, 5_000, 0.1, 0.05))
    variant = _totals(_shoppers(rng, 4_000, 0.1, 0.05))
    assert (
        compare(control, variant, metric="ctr", traffic_split=50, sequential=True).srm_p_value
        < 0.001
    )
    assert (
        compare(control, variant, metric="ctr", traffic_split=56, sequential=True).srm_p_value
        > 0.01
    )


def test_a_variant_without_users_gives_no_lift_rather_than_an_error() -> None:
    result = compare(
        VariantTotals(),
        VariantTotals(),
        metric="conversion_rate",
        traffic_split=50,
        sequential=True,
    )
    assert result.lift is None
    assert result.p_value is None
    assert result.note
