"""A/B/n statistics: every arm against control equals GrowthBook's `gbstats` on the same
counts (the primary metric's test, chance to win, each guardrail's one-sided test), the
SRM check spans all arms with their weights, and Holm-Bonferroni adjusts the p-values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import (
    FrequentistConfig,
    OneSidedTreatmentLesserTTest,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.utils import check_srm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mercato.modules.experiments.statistics import VariantTotals, compare_arms, holm
from tests.modules.experiments.shoppers import simulate_shoppers, totals_of
from tests.modules.experiments.test_gbstats_oracle import METRICS, _gbstats_statistic, _same

arm = st.fixed_dictionaries(
    {
        "users": st.integers(2, 2_000),
        "click": st.floats(0.0, 1.0),
        "buy": st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
        "weight": st.one_of(st.integers(1, 100), st.floats(0.01, 10.0)),
    }
)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # gbstats' own
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arms=st.lists(arm, min_size=3, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    metric=st.sampled_from(METRICS),
    sequential=st.booleans(),
)
def test_every_arm_against_control_equals_gbstats(
    arms: list[dict], seed: int, metric: str, sequential: bool
) -> None:
    raw = [
        simulate_shoppers(np.random.default_rng(seed + n), a["users"], a["click"], a["buy"])
        for n, a in enumerate(arms)
    ]
    guardrails = [name for name in METRICS if name != metric]
    weights = [float(a["weight"]) for a in arms]
    ours = compare_arms(
        [totals_of(r) for r in raw],
        weights,
        metric=metric,
        guardrails=guardrails,
        sequential=sequential,
    )

    assert _same(ours.srm_p_value, check_srm([a["users"] for a in arms], weights))
    assert ours.arms[0].effect is None  # control against itself: nothing
    assert ours.arms[0].drops == {}
    control = _gbstats_statistic(raw[0], metric)
    for verdict, arm_raw in zip(ours.arms[1:], raw[1:], strict=True):
        stat = _gbstats_statistic(arm_raw, metric)
        test = (
            SequentialTwoSidedTTest(control, stat, SequentialConfig(alpha=0.05))
            if sequential
            else TwoSidedTTest(control, stat, FrequentistConfig(alpha=0.05))
        )
        expected = test.compute_result()
        found = verdict.effect
        assert found is not None
        if expected.error_message:
            assert found.note == expected.error_message
            assert found.p_value is None
            assert verdict.p_value_adjusted is None
        else:
            bayes = EffectBayesianABTest(control, stat, EffectBayesianConfig()).compute_result()
            assert _same(found.lift, expected.expected)
            assert _same(found.ci_low, expected.ci[0])
            assert _same(found.ci_high, expected.ci[1])
            assert _same(found.p_value, expected.p_value)
            assert _same(found.chance_to_win, bayes.chance_to_win)
            assert verdict.p_value_adjusted is not None
            assert verdict.p_value_adjusted >= found.p_value
        for name in guardrails:
            drop = verdict.drops[name]
            lesser = OneSidedTreatmentLesserTTest(
                _gbstats_statistic(raw[0], name), _gbstats_statistic(arm_raw, name)
            ).compute_result()
            if lesser.error_message:
                assert drop.note == lesser.error_message
                assert drop.p_value is None
            else:
                assert _same(drop.lift, lesser.expected)
                assert _same(drop.p_value, lesser.p_value)


def test_holm_on_a_hand_computed_case() -> None:
    """m = 4. Sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.20 (x1 = 0.20);
    each adjusted value is at least the one before it."""
    adjusted = holm([0.03, 0.01, 0.20, 0.02])
    assert adjusted == pytest.approx([0.06, 0.04, 0.20, 0.06], abs=1e-15)


def test_holm_keeps_monotone_order_and_caps_at_one() -> None:
    """0.011 x3 = 0.033; 0.015 x2 = 0.030 is raised to 0.033; 0.2 x1 = 0.2. A missing
    p-value still counts in m (0.01 x4, 0.02 x3, 0.6 x2 = 1.2 capped at 1) and stays None."""
    assert holm([0.015, 0.011, 0.2]) == pytest.approx([0.033, 0.033, 0.2], abs=1e-15)
    assert holm([0.6, 0.02, None, 0.01]) == pytest.approx([1.0, 0.06, None, 0.04], abs=1e-15)
    assert holm([0.5, 0.4]) == pytest.approx([0.8, 0.8], abs=1e-15)
    assert holm([0.9, 0.8, 0.7]) == pytest.approx([1.0, 1.0, 1.0], abs=1e-15)
    assert holm([]) == []


def test_a_skewed_split_is_an_srm_across_all_arms() -> None:
    """Weights 2 : 1 : 1, but users 1,000 : 1,000 : 1,000."""
    even = [VariantTotals(users=1_000)] * 3
    skewed = compare_arms(even, [2, 1, 1], metric="conversion_rate", guardrails=[], sequential=True)
    assert skewed.srm_p_value < 0.001
    assert math.isclose(skewed.srm_p_value, check_srm([1_000] * 3, [2, 1, 1]), rel_tol=1e-9)
    fine = compare_arms(even, [1, 1, 1], metric="conversion_rate", guardrails=[], sequential=True)
    assert fine.srm_p_value == pytest.approx(1.0)


def test_a_drop_on_a_guardrail_is_a_small_one_sided_p_value() -> None:
    """Arm 1 converts like control but earns half the revenue per user; arm 2 earns more."""
    rng = np.random.default_rng(7)
    control = simulate_shoppers(rng, 3_000, 0.2, 0.3, spend=40.0)
    cheaper = simulate_shoppers(rng, 3_000, 0.2, 0.3, spend=20.0)
    richer = simulate_shoppers(rng, 3_000, 0.2, 0.3, spend=60.0)
    verdicts = compare_arms(
        [totals_of(control), totals_of(cheaper), totals_of(richer)],
        [1, 1, 1],
        metric="conversion_rate",
        guardrails=["revenue_per_user"],
        sequential=True,
    ).arms
    dropped, risen = verdicts[1].drops["revenue_per_user"], verdicts[2].drops["revenue_per_user"]
    assert dropped.p_value is not None
    assert dropped.p_value < 0.001
    assert risen.p_value is not None
    assert risen.p_value > 0.5
