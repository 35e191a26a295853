"""Our experiment statistics equal GrowthBook's `gbstats` (a dev-only dependency, used
here as the oracle) to 1e-9, over many generated experiments: every metric, fixed-horizon
and sequential tests, the Bayesian chance to win, the SRM check, and the reasons given
when a number cannot be computed."""

from __future__ import annotations

import math

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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mercato.modules.experiments.statistics import VariantTotals, metric_value
from tests.modules.experiments.shoppers import compare, simulate_shoppers, totals_of

TOLERANCE = 1e-9
METRICS = ("ctr", "conversion_rate", "revenue_per_user")


def _same(ours: float | None, theirs: float) -> bool:
    return ours is not None and math.isclose(ours, float(theirs), rel_tol=TOLERANCE, abs_tol=0)


def _gbstats_statistic(raw: dict, metric: str):
    """gbstats' statistic, built independently from the raw per-user values."""
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


rates = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))
experiments = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "control_users": st.integers(2, 3_000),
        "variant_users": st.integers(2, 3_000),
        "control_click": rates,
        "variant_click": rates,
        "control_buy": rates,
        "variant_buy": rates,
        "spend": st.floats(0.5, 500.0),
        "traffic_split": st.integers(0, 100),
    }
)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # gbstats' own
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=experiments, metric=st.sampled_from(METRICS), sequential=st.booleans())
def test_every_number_equals_gbstats(case: dict, metric: str, sequential: bool) -> None:
    control = simulate_shoppers(
        np.random.default_rng(case["seed"]),
        case["control_users"],
        case["control_click"],
        case["control_buy"],
        case["spend"],
    )
    variant = simulate_shoppers(
        np.random.default_rng(case["seed"] + 1),
        case["variant_users"],
        case["variant_click"],
        case["variant_buy"],
        case["spend"],
    )
    split = case["traffic_split"]
    ours = compare(
        totals_of(control),
        totals_of(variant),
        metric=metric,
        traffic_split=split,
        sequential=sequential,
    )

    stat_a, stat_b = _gbstats_statistic(control, metric), _gbstats_statistic(variant, metric)
    assert _same(metric_value(totals_of(control), metric), stat_a.mean)
    assert _same(metric_value(totals_of(variant), metric), stat_b.mean)
    srm = check_srm([len(control["bought"]), len(variant["bought"])], [split, 100 - split])
    assert _same(ours.srm_p_value, srm)

    test = (
        SequentialTwoSidedTTest(stat_a, stat_b, SequentialConfig(alpha=0.05))
        if sequential
        else TwoSidedTTest(stat_a, stat_b, FrequentistConfig(alpha=0.05))
    )
    expected = test.compute_result()
    if expected.error_message:
        assert ours.note == expected.error_message
        assert (ours.lift, ours.ci_low, ours.ci_high, ours.p_value, ours.chance_to_win) == (
            None,
            None,
            None,
            None,
            None,
        )
        return
    bayes = EffectBayesianABTest(stat_a, stat_b, EffectBayesianConfig()).compute_result()
    assert not bayes.error_message
    assert ours.note is None
    assert _same(ours.lift, expected.expected)
    assert _same(ours.ci_low, expected.ci[0])
    assert _same(ours.ci_high, expected.ci[1])
    assert _same(ours.p_value, expected.p_value)
    assert _same(ours.chance_to_win, bayes.chance_to_win)


@settings(max_examples=300, deadline=None)
@given(
    control=st.integers(0, 10**7),
    variant=st.integers(0, 10**7),
    split=st.integers(0, 100),
)
def test_the_srm_check_equals_gbstats(control: int, variant: int, split: int) -> None:
    ours = compare(
        VariantTotals(users=control),
        VariantTotals(users=variant),
        metric="conversion_rate",
        traffic_split=split,
        sequential=True,
    )
    assert _same(ours.srm_p_value, check_srm([control, variant], [split, 100 - split]))


def test_an_overwhelming_sequential_result_has_p_zero_like_gbstats() -> None:
    """The e-value overflows a float: gbstats answers p = 0, and so do we."""
    control = VariantTotals(users=1_000_000, conversions=300_000)
    variant = VariantTotals(users=1_000_000, conversions=600_000)
    ours = compare(control, variant, metric="conversion_rate", traffic_split=50, sequential=True)
    stat_a = ProportionStatistic(n=1_000_000, sum=300_000)
    stat_b = ProportionStatistic(n=1_000_000, sum=600_000)
    with np.errstate(over="ignore"):
        expected = SequentialTwoSidedTTest(stat_a, stat_b, SequentialConfig()).compute_result()
    assert expected.p_value == 0.0
    assert ours.p_value == 0.0
    assert _same(ours.ci_low, expected.ci[0])
    assert _same(ours.ci_high, expected.ci[1])
