"""`GET`/`POST {T}/recommendations/models`: versions with their facts, a fit now (202,
409 while one waits or runs), audited, invisible to other tenants."""

from __future__ import annotations

import uuid

from mercato.kernel.redis import get_redis
from mercato.modules.recommendations.fitting import fitting_key
from tests.factories import add_member, create_tenant, signup_and_login
from tests.jobs import run_queued_jobs

from .catalog_api import stock_the_catalog
from .shop import furniture


async def test_a_fit_asked_for_now_is_queued_once_audited_and_listed(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    url = f"/api/v1/tenants/{tenant}/recommendations/models"
    empty = await client.get(url, headers=owner.headers)
    assert empty.status_code == 200
    assert empty.json() == {"data": [], "fitting": False}

    queued = await client.post(url, headers=owner.headers)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job_id"]
    assert isinstance(job_id, int)
    again = await client.post(url, headers=owner.headers)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["type"].endswith("fit-in-progress")
    assert (await client.get(url, headers=owner.headers)).json()["fitting"] is True

    audit = await client.get(
        f"/api/v1/tenants/{tenant}/audit-logs",
        params={"action": "recommendations.model_fit_requested"},
        headers=owner.headers,
    )
    [entry] = audit.json()["data"]
    assert entry["target"] == f"reco_fit_job:{job_id}"

    await run_queued_jobs("models")
    listed = (await client.get(url, headers=owner.headers)).json()
    assert listed["fitting"] is False
    [model] = listed["data"]
    assert model["version"] == 1
    assert (model["events"], model["products"], model["users"]) == (0, 10, 0)
    assert model["fit_seconds"] >= 0
    assert model["scores"] == {}  # no history to hold a week out
    assert model["fitted_at"]
    recommended = await client.get(
        f"/api/v1/tenants/{tenant}/recommendations", headers=owner.headers
    )
    assert recommended.json()["model_version"] == 1

    second = await client.post(url, headers=owner.headers)  # the first one is done
    assert second.status_code == 202
    assert second.json()["job_id"] != job_id


async def test_a_fit_running_outside_the_queue_also_refuses_another(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}/recommendations/models"
    await get_redis().set(fitting_key(uuid.UUID(tenant)), "1", ex=60)  # as the periodic fit
    try:
        assert (await client.get(url, headers=owner.headers)).json()["fitting"] is True
        assert (await client.post(url, headers=owner.headers)).status_code == 409
    finally:
        await get_redis().delete(fitting_key(uuid.UUID(tenant)))


async def test_models_are_the_tenants_own_and_fitting_needs_a_manager(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    stranger = await signup_and_login(client)
    await create_tenant(client, stranger)
    url = f"/api/v1/tenants/{tenant}/recommendations/models"
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.post(url, headers=stranger.headers)).status_code == 404
    viewer = await add_member(client, owner, tenant, "viewer")
    assert (await client.get(url, headers=viewer.headers)).status_code == 200
    assert (await client.post(url, headers=viewer.headers)).status_code == 403
    manager = await add_member(client, owner, tenant, "manager")
    assert (await client.post(url, headers=manager.headers)).status_code == 202
