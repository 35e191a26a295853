"""How the experiment statistics behave (their equality with gbstats is in
`test_gbstats_oracle.py`)."""

from __future__ import annotations

import numpy as np

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
