"""A/B/n experiments over HTTP: arms in, arms served, every arm's results out, equal to
gbstats on the raw per-shopper counts; the original two-arm API is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import (
    FrequentistConfig,
    OneSidedTreatmentLesserTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

from mercato.modules.experiments import arm_index, boundaries
from tests.factories import create_tenant, signup_and_login
from tests.modules.experiments.test_experiments_api import BODY
from tests.modules.tracking.helpers import new_shop

ARMS = [
    {"name": "control", "strategy": "auto", "weight": 2},
    {"name": "similar", "strategy": "content_based", "weight": 1},
    {"name": "hot", "strategy": "trending", "weight": 1},
    {"name": "people", "strategy": "collaborative", "weight": 1},
]
ARMS_BODY = {
    "name": "Four strategies on product pages",
    "placement": "product_page",
    "arms": ARMS,
    "metric": "conversion_rate",
    "guardrails": ["revenue_per_user"],
    "sequential": False,
}


async def _shop(client):
    owner = await signup_and_login(client)
    return owner, f"/api/v1/tenants/{await create_tenant(client, owner)}/experiments"


async def test_an_experiment_with_arms_is_created_and_read_back(client) -> None:
    owner, url = await _shop(client)
    created = await client.post(url, json=ARMS_BODY, headers=owner.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert [arm["name"] for arm in body["arms"]] == ["control", "similar", "hot", "people"]
    assert [arm["weight"] for arm in body["arms"]] == [2, 1, 1, 1]
    assert body["guardrails"] == ["revenue_per_user"]
    # The original fields stay filled: the first two strategies, control's share.
    assert (body["control_strategy"], body["variant_strategy"]) == ("auto", "content_based")
    assert body["traffic_split"] == 40
    fetched = (await client.get(f"{url}/{body['id']}", headers=owner.headers)).json()
    assert fetched["arms"] == body["arms"]


async def test_an_experiment_created_the_original_way_has_two_arms(client) -> None:
    owner, url = await _shop(client)
    body = (
        await client.post(url, json={**BODY, "traffic_split": 30}, headers=owner.headers)
    ).json()
    assert body["arms"] == [
        {"name": "control", "strategy": "auto", "weight": 30},
        {"name": "variant", "strategy": "content_based", "weight": 70},
    ]
    assert body["guardrails"] == []
    assert (body["control_strategy"], body["variant_strategy"], body["traffic_split"]) == (
        "auto",
        "content_based",
        30,
    )


def _arms(*weights: object) -> list[dict]:
    return [
        {"name": f"arm{n}", "strategy": "trending", "weight": weight}
        for n, weight in enumerate(weights)
    ]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"arms": _arms(1)}, "arms"),  # fewer than two arms
        ({"arms": _arms(*[1] * 7)}, "arms"),  # more than six
        ({"arms": _arms(1, 0)}, "weight"),
        ({"arms": _arms(1, -2)}, "weight"),
        ({"arms": _arms(1, "2")}, "weight"),  # a number, not text
        ({"arms": [ARMS[0], {**ARMS[1], "name": "control"}]}, "unique"),
        ({"arms": [ARMS[0], {**ARMS[1], "name": "has space"}]}, "name"),
        ({"arms": [ARMS[0], {**ARMS[1], "strategy": "random"}]}, "strategy"),
        ({"arms": ARMS, "traffic_split": 50}, "not both"),
        ({"guardrails": ["conversion_rate"]}, "primary metric"),
        ({"guardrails": ["ctr", "ctr"]}, "twice"),
        ({"guardrails": ["clicks"]}, "guardrails"),
    ],
)
async def test_bad_arm_definitions_are_422(client, change: dict, where: str) -> None:
    owner, url = await _shop(client)
    response = await client.post(url, json={**ARMS_BODY, **change}, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert where in str(response.json()["errors"])


async def test_without_arms_the_original_fields_are_required(client) -> None:
    owner, url = await _shop(client)
    body = {key: value for key, value in BODY.items() if key != "variant_strategy"}
    response = await client.post(url, json=body, headers=owner.headers)
    assert response.status_code == 422
    assert "variant_strategy" in str(response.json()["errors"])


async def test_another_tenants_experiment_is_404(client) -> None:
    owner, url = await _shop(client)
    experiment = (await client.post(url, json=ARMS_BODY, headers=owner.headers)).json()["id"]
    stranger, other_url = await _shop(client)
    for path in ("", "/results"):
        response = await client.get(f"{other_url}/{experiment}{path}", headers=stranger.headers)
        assert response.status_code == 404, path
    moved = await client.post(f"{other_url}/{experiment}/start", headers=stranger.headers)
    assert moved.status_code == 404
    patched = await client.patch(
        f"{other_url}/{experiment}", json={"arms": ARMS[:2]}, headers=stranger.headers
    )
    assert patched.status_code == 404


async def test_a_draft_changes_its_arms_and_a_two_arm_one_its_original_fields(client) -> None:
    owner, url = await _shop(client)
    draft = (await client.post(url, json=ARMS_BODY, headers=owner.headers)).json()["id"]
    refused = await client.patch(
        f"{url}/{draft}", json={"traffic_split": 10}, headers=owner.headers
    )
    assert refused.status_code == 422  # four arms: change the arms, not a split of two
    assert "traffic_split" in str(refused.json()["errors"])
    clash = await client.patch(
        f"{url}/{draft}", json={"metric": "revenue_per_user"}, headers=owner.headers
    )
    assert clash.status_code == 422  # the guardrail would be the primary metric
    two = await client.patch(
        f"{url}/{draft}",
        json={"arms": [ARMS[0], {**ARMS[1], "weight": 3}]},
        headers=owner.headers,
    )
    assert two.status_code == 200, two.text
    assert two.json()["traffic_split"] == 40
    split = await client.patch(
        f"{url}/{draft}",
        json={"traffic_split": 25, "variant_strategy": "trending"},
        headers=owner.headers,
    )
    assert split.json()["arms"] == [
        {**ARMS[0], "weight": 25},
        {**ARMS[1], "strategy": "trending", "weight": 75},
    ]


async def test_a_running_experiment_serves_every_arm_by_weight(client) -> None:
    owner, url = await _shop(client)
    tenant_url = url.rsplit("/", 1)[0]
    experiment = (await client.post(url, json=ARMS_BODY, headers=owner.headers)).json()["id"]
    await client.post(f"{url}/{experiment}/start", headers=owner.headers)
    bounds = boundaries([arm["weight"] for arm in ARMS])
    seen = set()
    for n in range(24):
        user = f"shopper-{n}"
        body = (
            await client.get(
                f"{tenant_url}/recommendations",
                params={"user_id": user, "placement": "product_page"},
                headers=owner.headers,
            )
        ).json()
        arm = ARMS[arm_index(experiment, user, bounds)]
        assert (body["experiment_id"], body["variant"], body["strategy"]) == (
            experiment,
            arm["name"],
            arm["strategy"],
        )
        seen.add(arm["name"])
    assert len(seen) >= 3
    anonymous = await client.get(
        f"{tenant_url}/recommendations",
        params={"placement": "product_page"},
        headers=owner.headers,
    )
    assert anonymous.json()["strategy"] == "auto"
    assert anonymous.json()["variant"] is None


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _story(user: str, arm: int, experiment: str, n: int, start: datetime) -> tuple[list, dict]:
    """One shopper: two impressions, and a purchase whose chance and size depend on the arm
    (arm 1 converts more; arm 3 spends far less)."""
    bought = n % 5 == 0 or (arm == 1 and n % 3 == 0) or (arm == 2 and n % 4 == 0)
    revenue = (5.0 if arm == 3 else 60.0) + n % 7 if bought else 0.0
    tagged = {
        "placement": "product_page",
        "experiment_id": experiment,
        "variant": ARMS[arm]["name"],
    }
    events = [
        {
            "type": "impression",
            "user_id": user,
            "product_id": f"p{i}",
            **tagged,
            "timestamp": _stamp(start + timedelta(minutes=i)),
        }
        for i in range(2)
    ]
    if bought:
        events.append(
            {
                "type": "purchase",
                "user_id": user,
                "product_id": "p1",
                "revenue": f"{revenue:.2f}",
                "currency": "EUR",
                "timestamp": _stamp(start + timedelta(minutes=20)),
                "properties": {"order_id": f"o-{n}"},
            }
        )
    return events, {"bought": bought, "revenue": revenue}


async def _send(client, shop, events: list) -> None:
    for first in range(0, len(events), 1_000):
        sent = await client.post(
            f"{shop.base}/events/batch",
            json={"events": events[first : first + 1_000]},
            headers=shop.key_headers,
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["rejected"] == [], sent.text[:1_000]


async def test_every_arm_equals_gbstats_on_the_same_counts(client) -> None:
    shop = await new_shop(client)
    made = await client.post(f"{shop.base}/experiments", json=ARMS_BODY, headers=shop.owner.headers)
    experiment = made.json()["id"]
    await client.post(f"{shop.base}/experiments/{experiment}/start", headers=shop.owner.headers)
    bounds = boundaries([arm["weight"] for arm in ARMS])
    start = datetime.now(UTC) - timedelta(hours=2)
    events, raw = [], [[] for _ in ARMS]
    for n in range(900):
        user = f"shopper-{n}"
        arm = arm_index(experiment, user, bounds)
        story, counts = _story(user, arm, experiment, n, start)
        events += story
        raw[arm].append(counts)
    await _send(client, shop, events)

    results = (
        await client.get(
            f"{shop.base}/experiments/{experiment}/results", headers=shop.owner.headers
        )
    ).json()

    def conversion(rows):
        return ProportionStatistic(n=len(rows), sum=sum(row["bought"] for row in rows))

    def revenue(rows):
        spent = np.array([row["revenue"] for row in rows])
        return SampleMeanStatistic(n=len(rows), sum=spent.sum(), sum_squares=(spent**2).sum())

    assert [arm["name"] for arm in results["arms"]] == [arm["name"] for arm in ARMS]
    assert [row["variant"] for row in results["variants"]] == [arm["name"] for arm in ARMS]
    control = results["arms"][0]
    assert control["control"] is True
    assert control["lift"] is None
    assert control["guardrails"] == []
    users = [len(rows) for rows in raw]
    assert [arm["users"] for arm in results["arms"]] == users
    assert [arm["conversions"] for arm in results["arms"]] == [
        sum(row["bought"] for row in rows) for rows in raw
    ]
    assert results["srm_p_value"] == pytest.approx(check_srm(users, [2, 1, 1, 1]), rel=1e-9)
    assert results["srm"] is False
    raw_p = []
    for arm, rows in zip(results["arms"][1:], raw[1:], strict=True):
        expected = TwoSidedTTest(
            conversion(raw[0]), conversion(rows), FrequentistConfig()
        ).compute_result()
        bayes = EffectBayesianABTest(
            conversion(raw[0]), conversion(rows), EffectBayesianConfig()
        ).compute_result()
        assert arm["lift"] == pytest.approx(expected.expected, rel=1e-9)
        assert arm["ci_low"] == pytest.approx(expected.ci[0], rel=1e-9)
        assert arm["ci_high"] == pytest.approx(expected.ci[1], rel=1e-9)
        assert arm["p_value"] == pytest.approx(expected.p_value, rel=1e-9)
        assert arm["chance_to_win"] == pytest.approx(bayes.chance_to_win, rel=1e-9)
        raw_p.append(expected.p_value)
        [guard] = arm["guardrails"]
        drop = OneSidedTreatmentLesserTTest(revenue(raw[0]), revenue(rows)).compute_result()
        assert guard["metric"] == "revenue_per_user"
        assert guard["p_value"] == pytest.approx(drop.p_value, rel=1e-9)
        assert guard["failed"] is (drop.p_value < 0.05)
    # The top level is the second arm's, as the variant of a two-arm experiment.
    assert results["lift"] == results["arms"][1]["lift"]
    assert results["p_value"] == results["arms"][1]["p_value"]
    # Holm across the three comparisons, by hand.
    order = sorted(range(3), key=lambda i: raw_p[i])
    adjusted, running = [0.0] * 3, 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw_p[index]))
        adjusted[index] = running
    for arm, expected_adjusted in zip(results["arms"][1:], adjusted, strict=True):
        assert arm["p_value_adjusted"] == pytest.approx(expected_adjusted, rel=1e-9)
        assert arm["significant"] is (expected_adjusted < 0.05)
    # Arm 3 spends a twelfth as much per purchase: its revenue guardrail fails.
    assert results["arms"][3]["guardrails"][0]["failed"] is True
    assert results["arms"][1]["guardrails"][0]["failed"] is False


async def test_a_skewed_split_across_arms_is_flagged(client) -> None:
    shop = await new_shop(client)
    body = {**ARMS_BODY, "arms": [{**arm, "weight": 1} for arm in ARMS[:3]]}
    experiment = (
        await client.post(f"{shop.base}/experiments", json=body, headers=shop.owner.headers)
    ).json()["id"]
    start = datetime.now(UTC) - timedelta(hours=1)
    events = []
    for n in range(600):  # 400 / 100 / 100 where the weights say a third each
        arm = 0 if n < 400 else 1 if n < 500 else 2
        events += _story(f"u{n}", arm, experiment, n, start)[0]
    await _send(client, shop, events)
    results = (
        await client.get(
            f"{shop.base}/experiments/{experiment}/results", headers=shop.owner.headers
        )
    ).json()
    assert [arm["users"] for arm in results["arms"]] == [400, 100, 100]
    assert results["srm_p_value"] == pytest.approx(check_srm([400, 100, 100], [1, 1, 1]), rel=1e-9)
    assert results["srm"] is True
