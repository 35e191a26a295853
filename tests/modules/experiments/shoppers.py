"""Per-user experiment data generated for the statistics tests, its per-variant sums, and
the numbers of a two-arm experiment as the service computes them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mercato.modules.experiments.statistics import VariantTotals, compare_arms


def simulate_shoppers(
    rng: np.random.Generator, users: int, click_rate: float, buy_rate: float, spend: float = 30.0
) -> dict:
    """Per shopper: 1 to 5 impressions, clicks among them, whether they bought, and revenue."""
    impressions = rng.integers(1, 6, size=users)
    clicks = rng.binomial(impressions, click_rate)
    bought = rng.random(users) < buy_rate
    revenue = np.where(bought, np.round(rng.gamma(2.0, spend, size=users), 2), 0.0)
    return {"impressions": impressions, "clicks": clicks, "bought": bought, "revenue": revenue}


def totals_of(raw: dict) -> VariantTotals:
    """What `results.count_variants` sums in SQL, summed here from the per-user values."""
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


@dataclass(frozen=True)
class TwoArms:
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    chance_to_win: float | None
    srm_p_value: float
    note: str | None


def compare(
    control: VariantTotals,
    variant: VariantTotals,
    *,
    metric: str,
    traffic_split: int,
    sequential: bool,
) -> TwoArms:
    """A two-arm experiment: arms weighted `traffic_split` and `100 - traffic_split`."""
    compared = compare_arms(
        [control, variant],
        [traffic_split, 100 - traffic_split],
        metric=metric,
        guardrails=[],
        sequential=sequential,
    )
    found = compared.arms[1].effect
    assert found is not None
    return TwoArms(
        found.lift,
        found.ci_low,
        found.ci_high,
        found.p_value,
        found.chance_to_win,
        compared.srm_p_value,
        found.note,
    )
