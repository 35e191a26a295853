"""Experiment statistics: GrowthBook's formulas, computed here on scipy's distributions.

The numbers of `GET {T}/experiments/{id}/results` are the ones GrowthBook's stats engine
(`gbstats`) gives for the same per-user sums; `tests/modules/experiments/test_gbstats_oracle.py`
compares them with gbstats itself over many generated experiments. Mercato does not import
gbstats at run time: it pins numpy and pandas below 2 and weighs about 70 MB, for the few
formulas below.

The unit is the shopper: every sum is over users, each user counted in the variant of
their first exposure. Per variant, the metric is

- `conversion_rate`: converted users / users, a proportion with variance p(1 - p);
- `revenue_per_user`: the mean revenue per user, with the sample variance (n - 1);
- `ctr`: clicks / impressions, a ratio of two per-user means whose variance comes from
  the delta method (the variances of both means and their covariance).

Each arm against control, on the relative difference (arm - control) / control:

- `lift`, `ci_low`, `ci_high`, `p_value`: Welch's t-test (Welch-Satterthwaite degrees of
  freedom), or, for a `sequential` experiment, the always-valid confidence sequence of
  Waudby-Smith et al. (2023, eq. 9 and 155; tuning 5,000), so that reading the results
  every day does not inflate false positives; alpha 0.05;
- `chance_to_win`: the posterior probability that the variant is better, under a flat
  prior on the relative effect (a normal posterior around the observed lift);
- `srm_p_value`: a chi-squared test of users per arm against the configured weights,
  across all arms at once;
- guardrails: Welch's one-sided test of a drop below control (`drop_p_value`);
- with several arms, the primary metric's p-values are also adjusted with Holm-Bonferroni
  (`holm`) across the arms, so that one of many arms winning by chance is not taken for
  a real win.

When a number cannot be computed (a zero baseline, a zero variance), the numbers are None
and `note` carries the same reason code gbstats reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import chi2, norm, t

ALPHA = 0.05
SEQUENTIAL_TUNING = 5000.0
# Past this exponent exp() overflows a float; the e-value is then infinite (p = 0).
MAX_EXPONENT = math.log(1.7976931348623157e308)

ZERO_BASELINE = "ZERO_NEGATIVE_BASELINE_VARIATION"
ZERO_VARIANCE = "ZERO_NEGATIVE_VARIANCE"
NO_USERS = "NO_UNITS_IN_VARIATION"
NOT_ENOUGH_USERS = "not enough users in each variant"


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
class Effect:
    """One arm against control on one metric; relative numbers (0.12 = +12 %)."""

    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    chance_to_win: float | None
    note: str | None


@dataclass(frozen=True)
class Drop:
    """A guardrail's verdict: the lift and the one-sided p-value of a drop below control."""

    lift: float | None
    p_value: float | None
    note: str | None


@dataclass(frozen=True)
class Estimate:
    """One variant's metric: its value, the variance of one user's contribution, and n."""

    n: int
    mean: float
    variance: float


def _mean(total: float, n: int) -> float:
    return 0.0 if n == 0 else total / n


def _sample_variance(total: float, squares: float, n: int) -> float:
    return 0.0 if n <= 1 else (squares - total**2 / n) / (n - 1)


def _ratio(totals: VariantTotals) -> Estimate:
    """Clicks over impressions per user, with the delta-method variance."""
    n = totals.users
    clicks, impressions = float(totals.clicks), float(totals.impressions)
    mean = 0.0 if impressions == 0 else clicks / impressions
    clicks_mean, impressions_mean = _mean(clicks, n), _mean(impressions, n)
    if impressions_mean == 0 or n <= 1:
        return Estimate(n, mean, 0.0)
    clicks_var = _sample_variance(clicks, totals.clicks_squared, n)
    impressions_var = _sample_variance(impressions, totals.impressions_squared, n)
    covariance = (totals.clicks_times_impressions - clicks * impressions / n) / (n - 1)
    variance = (
        clicks_var / impressions_mean**2
        - 2 * covariance * clicks_mean / impressions_mean**3
        + clicks_mean**2 * impressions_var / impressions_mean**4
    )
    return Estimate(n, mean, variance)


def estimate(totals: VariantTotals, metric: str) -> Estimate:
    """The metric of one variant (see the module docstring)."""
    n = totals.users
    if metric == "conversion_rate":
        rate = _mean(float(totals.conversions), n)
        return Estimate(n, rate, rate * (1 - rate))
    if metric == "revenue_per_user":
        revenue = float(totals.revenue)
        return Estimate(n, _mean(revenue, n), _sample_variance(revenue, totals.revenue_squared, n))
    if metric == "ctr":
        return _ratio(totals)
    raise ValueError(f"unknown metric {metric!r}")


def metric_value(totals: VariantTotals, metric: str) -> float:
    return estimate(totals, metric).mean


def srm_p_value(users: list[int], weights: list[float]) -> float:
    """Chi-squared test of the users per variant against the expected split (weights of
    zero or less are left out of the statistic; no users at all is no evidence: 1)."""
    observed = sum(users)
    if not observed:
        return 1.0
    weight_sum = sum(weights)
    statistic = 0.0
    for count, weight in zip(users, weights, strict=True):
        if weight <= 0:
            continue
        expected = weight / weight_sum * observed
        statistic += (count - expected) ** 2 / expected
    return float(chi2.sf(statistic, len(users) - 1))


@dataclass(frozen=True)
class _Difference:
    """The relative difference of the variant over control and its variance."""

    lift: float
    variance: float


def _relative_difference(control: Estimate, variant: Estimate) -> _Difference:
    lift = (variant.mean - control.mean) / control.mean
    variance = variant.variance / (control.mean**2 * variant.n) + control.variance * (
        variant.mean**2
    ) / (control.mean**4 * control.n)
    return _Difference(lift, variance)


def _welch_dof(control: Estimate, variant: Estimate) -> float:
    spread = variant.variance / variant.n + control.variance / control.n
    return spread**2 / (
        variant.variance**2 / (variant.n**2 * (variant.n - 1))
        + control.variance**2 / (control.n**2 * (control.n - 1))
    )


def _fixed_horizon(
    control: Estimate, variant: Estimate, diff: _Difference
) -> tuple[float, float, float]:
    """Welch's two-sided t-test: the interval's bounds and the p-value."""
    dof = _welch_dof(control, variant)
    stddev = math.sqrt(diff.variance)
    p_value = 2 * (1 - float(t.cdf(abs(diff.lift / stddev), dof)))
    width = float(t.ppf(1 - ALPHA / 2, dof)) * stddev
    return diff.lift - width, diff.lift + width, p_value


def _always_valid(
    control: Estimate, variant: Estimate, diff: _Difference
) -> tuple[float, float, float]:
    """The always-valid confidence sequence and its p-value (Waudby-Smith et al. 2023)."""
    n = control.n + variant.n
    rho_squared = (-2 * math.log(ALPHA) + math.log(-2 * math.log(ALPHA) + 1)) / SEQUENTIAL_TUNING
    scale = n * rho_squared + 1
    width = math.sqrt(diff.variance * n) * math.sqrt(
        2 * scale * math.log(math.sqrt(scale) / ALPHA) / (n**2 * rho_squared)
    )
    exponent = rho_squared * (diff.lift**2 * n / diff.variance) / (2 * scale)
    e_value = math.inf if exponent > MAX_EXPONENT else math.exp(exponent) / math.sqrt(scale)
    return diff.lift - width, diff.lift + width, min(1 / e_value, 1.0)


def chance_to_win(diff: _Difference) -> float:
    """P(variant better) under a flat prior: the normal posterior's mass above zero."""
    posterior_sd = math.sqrt(1 / (1 / diff.variance))
    return float(norm.sf(0, diff.lift, posterior_sd))


def _blocked(control: Estimate, variant: Estimate) -> str | None:
    """Why the comparison cannot be made, in gbstats' reason codes; None when it can."""
    if control.mean == 0:
        return ZERO_BASELINE
    if control.n == 0 or variant.n == 0:
        return NO_USERS
    if control.variance <= 0 or variant.variance <= 0:
        return ZERO_VARIANCE
    return None


def _measured(
    control: VariantTotals, variant: VariantTotals, metric: str
) -> tuple[Estimate, Estimate, _Difference] | str:
    """Both arms' metric and their relative difference, or why they cannot be compared
    (too few users, a zero baseline, zero variance)."""
    if control.users < 2 or variant.users < 2:
        return NOT_ENOUGH_USERS
    control_metric, variant_metric = estimate(control, metric), estimate(variant, metric)
    reason = _blocked(control_metric, variant_metric)
    if reason is not None:
        return reason
    return control_metric, variant_metric, _relative_difference(control_metric, variant_metric)


def effect(
    control: VariantTotals, variant: VariantTotals, *, metric: str, sequential: bool
) -> Effect:
    """One arm against control on `metric`: relative lift with its 95 % interval (fixed
    horizon or sequential), two-sided p-value and chance to win; None with the reason in
    `note` when the numbers cannot be computed."""
    measured = _measured(control, variant, metric)
    if isinstance(measured, str):
        return Effect(None, None, None, None, None, measured)
    control_metric, variant_metric, diff = measured
    test = _always_valid if sequential else _fixed_horizon
    ci_low, ci_high, p_value = test(control_metric, variant_metric, diff)
    return Effect(diff.lift, ci_low, ci_high, p_value, chance_to_win(diff), None)


def drop_p_value(control: VariantTotals, variant: VariantTotals, *, metric: str) -> Drop:
    """Did the arm do worse than control on a guardrail `metric`? Welch's one-sided t-test
    of "the arm is below control" on the relative difference (gbstats'
    `OneSidedTreatmentLesserTTest`): a small p-value is evidence of a drop. Fixed-horizon
    even for a sequential experiment: a guardrail is an alarm, and reading it often can
    only make it ring sooner, never hide a drop."""
    measured = _measured(control, variant, metric)
    if isinstance(measured, str):
        return Drop(None, None, measured)
    control_metric, variant_metric, diff = measured
    dof = _welch_dof(control_metric, variant_metric)
    return Drop(diff.lift, float(t.cdf(diff.lift / math.sqrt(diff.variance), dof)), None)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values, in the given order: the i-th smallest of m
    p-values becomes max over j <= i of min(1, (m - j + 1) p_(j)). A comparison that has no
    p-value yet still counts in m (the family is every arm against control, fixed by the
    design, not by which arms have data) and stays None."""
    m = len(p_values)
    ranked = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * m
    running = 0.0
    for rank, (p, index) in enumerate(ranked):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class ArmVerdict:
    """One arm against control: the primary metric's effect with its Holm-adjusted
    p-value, and each guardrail's drop check. All None / empty for control itself."""

    effect: Effect | None
    p_value_adjusted: float | None
    drops: dict[str, Drop]


@dataclass(frozen=True)
class ArmsComparison:
    arms: list[ArmVerdict]
    srm_p_value: float


def compare_arms(
    totals: Sequence[VariantTotals],
    weights: Sequence[float],
    *,
    metric: str,
    guardrails: Sequence[str],
    sequential: bool,
) -> ArmsComparison:
    """Every arm against the first (control): the same pairwise numbers as a two-arm
    experiment, p-values adjusted across the arms, and the SRM check across all arms."""
    control = totals[0]
    effects = [effect(control, arm, metric=metric, sequential=sequential) for arm in totals[1:]]
    adjusted = holm([found.p_value for found in effects])
    verdicts = [ArmVerdict(None, None, {})]
    for arm, found, p_adjusted in zip(totals[1:], effects, adjusted, strict=True):
        drops = {name: drop_p_value(control, arm, metric=name) for name in guardrails}
        verdicts.append(ArmVerdict(found, p_adjusted, drops))
    return ArmsComparison(verdicts, srm_p_value([arm.users for arm in totals], list(weights)))
