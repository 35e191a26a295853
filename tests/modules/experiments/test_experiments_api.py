"""Experiments over HTTP: creation, the state machine, one running experiment per placement."""

from __future__ import annotations

import pytest

from tests.factories import add_member, create_tenant, signup_and_login
from tests.metrics import scraped

BODY = {
    "name": "Similar vs blend on product pages",
    "placement": "product_page",
    "control_strategy": "auto",
    "variant_strategy": "content_based",
    "traffic_split": 50,
    "metric": "ctr",
}


async def _shop(client):
    owner = await signup_and_login(client)
    return owner, f"/api/v1/tenants/{await create_tenant(client, owner)}/experiments"


async def test_an_experiment_is_created_as_a_draft(client) -> None:
    owner, url = await _shop(client)
    created = await client.post(url, json=BODY, headers=owner.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft"
    assert body["traffic_split"] == 50
    assert body["metric"] == "ctr"
    fetched = await client.get(f"{url}/{body['id']}", headers=owner.headers)
    assert fetched.json()["id"] == body["id"]
    listed = await client.get(url, headers=owner.headers)
    assert [row["id"] for row in listed.json()["data"]] == [body["id"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("traffic_split", 101),
        ("traffic_split", -1),
        ("metric", "clicks"),
        ("control_strategy", "random"),
        ("placement", "has spaces"),
    ],
)
async def test_invalid_experiments_are_422(client, field: str, value: object) -> None:
    owner, url = await _shop(client)
    response = await client.post(url, json={**BODY, field: value}, headers=owner.headers)
    assert response.status_code == 422
    assert any(field in str(error.get("loc") or error) for error in response.json()["errors"])


async def test_the_state_machine_allows_only_its_moves(client) -> None:
    owner, url = await _shop(client)
    experiment = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]

    async def move(action: str) -> int:
        response = await client.post(f"{url}/{experiment}/{action}", headers=owner.headers)
        return response.status_code

    assert await move("pause") == 409  # draft cannot pause
    assert await move("start") == 200
    assert await move("start") == 409  # already running
    assert await move("pause") == 200
    assert await move("pause") == 409
    assert await move("start") == 200  # paused ⇄ running
    assert await move("complete") == 200
    for action in ("start", "pause", "complete"):
        assert await move(action) == 409
    final = (await client.get(f"{url}/{experiment}", headers=owner.headers)).json()
    assert final["status"] == "completed"
    assert final["started_at"]
    assert final["completed_at"]


async def test_a_forbidden_move_is_problem_json(client) -> None:
    owner, url = await _shop(client)
    experiment = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    response = await client.post(f"{url}/{experiment}/pause", headers=owner.headers)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("experiment-transition-forbidden")


async def test_only_one_experiment_runs_per_placement(client) -> None:
    owner, url = await _shop(client)
    first = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    second = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    elsewhere = (
        await client.post(url, json={**BODY, "placement": "cart"}, headers=owner.headers)
    ).json()["id"]
    assert (await client.post(f"{url}/{first}/start", headers=owner.headers)).status_code == 200
    busy = await client.post(f"{url}/{second}/start", headers=owner.headers)
    assert busy.status_code == 409
    assert busy.json()["type"].endswith("placement-busy")
    assert (await client.post(f"{url}/{elsewhere}/start", headers=owner.headers)).status_code == 200
    assert (await client.post(f"{url}/{first}/pause", headers=owner.headers)).status_code == 200
    assert (await client.post(f"{url}/{second}/start", headers=owner.headers)).status_code == 200


async def test_a_viewer_reads_but_cannot_create(client) -> None:
    owner, url = await _shop(client)
    tenant = url.split("/")[4]
    viewer = await add_member(client, owner, tenant, "viewer")
    assert (await client.post(url, json=BODY, headers=viewer.headers)).status_code == 403
    assert (await client.get(url, headers=viewer.headers)).status_code == 200


async def test_a_running_experiment_decides_the_strategy_per_shopper(client) -> None:
    from mercato.modules.experiments import assign

    owner, url = await _shop(client)
    tenant_url = url.rsplit("/", 1)[0]
    experiment = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    await client.post(f"{url}/{experiment}/start", headers=owner.headers)
    for user in ("ana", "bo", "cy", "dee", "eve", "fay"):
        response = await client.get(
            f"{tenant_url}/recommendations",
            params={"user_id": user, "placement": "product_page"},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        variant = assign(experiment, user, 50)
        assert body["experiment_id"] == experiment
        assert body["variant"] == variant
        assert body["strategy"] == ("auto" if variant == "control" else "content_based")
    await client.post(f"{url}/{experiment}/complete", headers=owner.headers)
    after = await client.get(
        f"{tenant_url}/recommendations",
        params={"user_id": "ana", "placement": "product_page"},
        headers=owner.headers,
    )
    assert after.json()["experiment_id"] is None
    assert after.json()["strategy"] == "auto"


async def test_a_draft_can_be_changed_or_deleted_but_a_started_one_cannot(client) -> None:
    owner, url = await _shop(client)
    draft = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    changed = await client.patch(
        f"{url}/{draft}",
        json={"traffic_split": 80, "metric": "revenue_per_user"},
        headers=owner.headers,
    )
    assert changed.status_code == 200
    assert changed.json()["traffic_split"] == 80
    assert changed.json()["metric"] == "revenue_per_user"
    assert (await client.delete(f"{url}/{draft}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"{url}/{draft}", headers=owner.headers)).status_code == 404
    started = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    await client.post(f"{url}/{started}/start", headers=owner.headers)
    refused = await client.patch(
        f"{url}/{started}", json={"traffic_split": 10}, headers=owner.headers
    )
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("experiment-not-draft")
    assert (await client.delete(f"{url}/{started}", headers=owner.headers)).status_code == 409


async def test_running_experiments_are_a_gauge_across_tenants(client) -> None:
    owner, url = await _shop(client)
    before = await scraped(client, "mercato_experiments_running")
    experiment = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    assert await scraped(client, "mercato_experiments_running") == before  # a draft
    await client.post(f"{url}/{experiment}/start", headers=owner.headers)
    assert await scraped(client, "mercato_experiments_running") == before + 1
    await client.post(f"{url}/{experiment}/complete", headers=owner.headers)
    assert await scraped(client, "mercato_experiments_running") == before
