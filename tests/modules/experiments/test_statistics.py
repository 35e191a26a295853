"""How the experiment statistics behave (their equality with gbstats is in
`test_gbstats_oracle.py`)."""

from __future__ import annotations

import numpy as np

from mercato.modules.experiments.statistics import VariantTotals
from tests.modules.experiments.shoppers import compare, simulate_shoppers, totals_of


def test_sequential_intervals_are_wider_than_fixed_horizon_ones() -> None:
    rng = np.random.default_rng(11)
    control = totals_of(simulate_shoppers(rng, 3_000, 0.1, 0.05))
    variant = totals_of(simulate_shoppers(rng, 3_000, 0.1, 0.05))
    fixed = compare(control, variant, metric="ctr", traffic_split=50, sequential=False)
    always_valid = compare(control, variant, metric="ctr", traffic_split=50, sequential=True)
    assert always_valid.ci_high - always_valid.ci_low > fixed.ci_high - fixed.ci_low


def test_a_lopsided_split_is_flagged_by_the_srm_check() -> None:
    rng = np.random.default_rng(3)
    control = totals_of(simulate_shoppers(rng, 5_000, 0.1, 0.05))
    variant = totals_of(simulate_shoppers(rng, 4_000, 0.1, 0.05))
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
