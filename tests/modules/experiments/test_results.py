"""Experiment results from real tracking events: the API.md counting rules, and numbers
equal to gbstats' output computed independently from the raw per-user counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, RatioStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

from mercato.modules.experiments import assign
from tests.factories import create_tenant, signup_and_login

USERS = [f"shopper-{n}" for n in range(120)]


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _shopper_events(
    user: str, variant: str, experiment: str, n: int, start: datetime
) -> tuple[list, dict]:
    """A deterministic little story per shopper, and the per-user counts it implies."""
    impressions = 1 + n % 3
    clicks = (n % 5 == 0) + (variant == "variant" and n % 4 == 0)
    bought = n % 6 == 0 or (variant == "variant" and n % 7 == 0)
    revenue = 20.0 + n if bought else 0.0
    tagged = {"placement": "product_page", "experiment_id": experiment, "variant": variant}
    events = []
    if n % 9 == 0:  # bought before the first exposure: never counts
        events.append(
            {
                "type": "purchase",
                "user_id": user,
                "product_id": "p1",
                "revenue": "99.00",
                "currency": "EUR",
                "timestamp": _stamp(start - timedelta(hours=1)),
                "properties": {"order_id": f"pre-{n}"},
            }
        )
    for i in range(impressions):
        events.append(
            {
                "type": "impression",
                "user_id": user,
                "product_id": f"p{i}",
                **tagged,
                "timestamp": _stamp(start + timedelta(minutes=i)),
            }
        )
    for i in range(clicks):
        events.append(
            {
                "type": "click",
                "user_id": user,
                "product_id": "p2",
                **tagged,
                "timestamp": _stamp(start + timedelta(minutes=5 + i)),
            }
        )
    if bought:
        events.append(
            {
                "type": "purchase",
                "user_id": user,
                "product_id": "p2",
                "revenue": f"{revenue:.2f}",
                "currency": "EUR",
                "timestamp": _stamp(start + timedelta(minutes=30)),
                "properties": {"order_id": f"o-{n}"},
            }
        )
    return events, {
        "impressions": impressions,
        "clicks": clicks,
        "bought": bought,
        "revenue": revenue,
    }


@pytest.mark.parametrize("metric", ["ctr", "conversion_rate", "revenue_per_user"])
async def test_results_follow_the_counting_rules_and_equal_gbstats(client, metric: str) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    base = f"/api/v1/tenants/{tenant}"
    body = {
        "name": "x",
        "placement": "product_page",
        "control_strategy": "auto",
        "variant_strategy": "content_based",
        "traffic_split": 50,
        "metric": metric,
    }
    experiment = (
        await client.post(f"{base}/experiments", json=body, headers=owner.headers)
    ).json()["id"]
    await client.post(f"{base}/experiments/{experiment}/start", headers=owner.headers)
    start = datetime.now(UTC) - timedelta(hours=3)
    events, raw = [], {"control": [], "variant": []}
    for n, user in enumerate(USERS):
        variant = assign(experiment, user, 50)
        story, counts = _shopper_events(user, variant, experiment, n, start)
        events += story
        raw[variant].append(counts)
    sent = await client.post(f"{base}/events/batch", json={"events": events}, headers=owner.headers)
    assert sent.status_code == 202, sent.text
    assert sent.json()["accepted"] == len(events), sent.text[:1500]

    results = (
        await client.get(f"{base}/experiments/{experiment}/results", headers=owner.headers)
    ).json()
    by_variant = {row["variant"]: row for row in results["variants"]}
    for name in ("control", "variant"):
        rows = raw[name]
        assert by_variant[name]["users"] == len(rows)
        assert by_variant[name]["impressions"] == sum(r["impressions"] for r in rows)
        assert by_variant[name]["clicks"] == sum(r["clicks"] for r in rows)
        assert by_variant[name]["conversions"] == sum(r["bought"] for r in rows)
        assert float(by_variant[name]["revenue"]) == pytest.approx(sum(r["revenue"] for r in rows))

    def statistic(rows):
        n = len(rows)
        if metric == "conversion_rate":
            return ProportionStatistic(n=n, sum=sum(r["bought"] for r in rows))
        if metric == "revenue_per_user":
            revenue = np.array([r["revenue"] for r in rows])
            return SampleMeanStatistic(n=n, sum=revenue.sum(), sum_squares=(revenue**2).sum())
        clicks = np.array([r["clicks"] for r in rows], dtype=float)
        shown = np.array([r["impressions"] for r in rows], dtype=float)
        return RatioStatistic(
            n=n,
            m_statistic=SampleMeanStatistic(n=n, sum=clicks.sum(), sum_squares=(clicks**2).sum()),
            d_statistic=SampleMeanStatistic(n=n, sum=shown.sum(), sum_squares=(shown**2).sum()),
            m_d_sum_of_products=(clicks * shown).sum(),
        )

    a, b = statistic(raw["control"]), statistic(raw["variant"])
    expected = SequentialTwoSidedTTest(a, b, SequentialConfig(alpha=0.05)).compute_result()
    bayes = EffectBayesianABTest(a, b, EffectBayesianConfig()).compute_result()
    assert results["metric"] == metric
    assert results["lift"] == pytest.approx(expected.expected, rel=1e-9)
    assert results["ci_low"] == pytest.approx(expected.ci[0], rel=1e-9)
    assert results["ci_high"] == pytest.approx(expected.ci[1], rel=1e-9)
    assert results["p_value"] == pytest.approx(expected.p_value, rel=1e-9)
    assert results["chance_to_win"] == pytest.approx(bayes.chance_to_win, rel=1e-9)
    srm = check_srm([len(raw["control"]), len(raw["variant"])], [50, 50])
    assert results["srm_p_value"] == pytest.approx(srm, rel=1e-9)
