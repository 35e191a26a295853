"""Per-user experiment data generated for the statistics tests, and its per-variant sums."""

from __future__ import annotations

import numpy as np

from mercato.modules.experiments.statistics import VariantTotals


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
