"""Experiment statistics, computed by GrowthBook's `gbstats` (no formulas of our own).

Which gbstats function backs which number of `GET {T}/experiments/{id}/results`:

- the metric of each variant: `ProportionStatistic` for conversion_rate (converted
  users / users); `SampleMeanStatistic` for revenue_per_user (with the sum of squares);
  `RatioStatistic` of two per-user `SampleMeanStatistic`s for ctr (clicks / impressions,
  with their sum of products: the delta method);
- `lift`, `ci_low`, `ci_high`, `p_value`: `frequentist.tests.TwoSidedTTest` (relative
  difference, alpha 0.05), or `SequentialTwoSidedTTest` (always-valid intervals after
  Waudby-Smith et al.) when the experiment is `sequential`, so reading the results every
  day does not inflate false positives;
- `chance_to_win`: `bayesian.tests.EffectBayesianABTest` (relative effect, flat prior);
- `srm_p_value`: `utils.check_srm` (chi-squared test of users per variant against the
  configured split).

The unit is the shopper: every sum below is over users, each user counted in the variant
of their first exposure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm

ALPHA = 0.05


@dataclass(frozen=True)
class VariantTotals:
    """Per-variant sums over users: counts, and the squares the variances need."""

    users: int = 0
    impressions: int = 0
    impressions_squared: float = 0.0
    clicks: int = 0
    clicks_squared: float = 0.0
    clicks_times_impressions: float = 0.0
    conversions: int = 0
    revenue: float = 0.0
    revenue_squared: float = 0.0


@dataclass(frozen=True)
class Comparison:
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    chance_to_win: float | None
    srm_p_value: float
    note: str | None


def metric_statistic(totals: VariantTotals, metric: str) -> Any:
    """The gbstats statistic of one variant for `metric` (see the module docstring)."""
    if metric == "conversion_rate":
        return ProportionStatistic(n=totals.users, sum=totals.conversions)
    if metric == "revenue_per_user":
        return SampleMeanStatistic(
            n=totals.users, sum=totals.revenue, sum_squares=totals.revenue_squared
        )
    if metric == "ctr":
        return RatioStatistic(
            n=totals.users,
            m_statistic=SampleMeanStatistic(
                n=totals.users, sum=totals.clicks, sum_squares=totals.clicks_squared
            ),
            d_statistic=SampleMeanStatistic(
                n=totals.users, sum=totals.impressions, sum_squares=totals.impressions_squared
            ),
            m_d_sum_of_products=totals.clicks_times_impressions,
        )
    raise ValueError(f"unknown metric {metric!r}")


def metric_value(totals: VariantTotals, metric: str) -> float:
    return float(metric_statistic(totals, metric).mean)


def compare(
    control: VariantTotals,
    variant: VariantTotals,
    *,
    metric: str,
    traffic_split: int,
    sequential: bool,
) -> Comparison:
    """Variant against control: relative lift with its 95 % interval, p-value, chance to
    win, and the sample-ratio-mismatch check. Numbers gbstats declines to compute (no
    users, a zero baseline, zero variance) are None, with gbstats' reason in `note`."""
    srm = float(check_srm([control.users, variant.users], [traffic_split, 100 - traffic_split]))
    if control.users < 2 or variant.users < 2:
        return Comparison(None, None, None, None, None, srm, "not enough users in each variant")
    stat_a, stat_b = metric_statistic(control, metric), metric_statistic(variant, metric)
    if sequential:
        frequentist = SequentialTwoSidedTTest(stat_a, stat_b, SequentialConfig(alpha=ALPHA))
    else:
        frequentist = TwoSidedTTest(stat_a, stat_b, FrequentistConfig(alpha=ALPHA))
    tested = frequentist.compute_result()
    if tested.error_message:
        return Comparison(None, None, None, None, None, srm, tested.error_message)
    bayesian = EffectBayesianABTest(stat_a, stat_b, EffectBayesianConfig()).compute_result()
    return Comparison(
        lift=float(tested.expected),
        ci_low=float(tested.ci[0]),
        ci_high=float(tested.ci[1]),
        p_value=float(tested.p_value),
        chance_to_win=None if bayesian.error_message else float(bayesian.chance_to_win),
        srm_p_value=srm,
        note=None,
    )
