"""The placement decision answers from memory while the cache generation stands still.

Serving a cache miss asks which experiment runs on the placement; each process keeps the
tenant's running experiments keyed by the generation the caller read. A change that did
not move the generation is not seen; a new generation (what `move` causes) is.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.modules.experiments import choose_for_placement
from tests.factories import create_tenant, signup_and_login
from tests.modules.experiments.test_experiments_api import BODY


async def _decide(tenant_id: uuid.UUID, generation: int | None) -> str | None:
    async with get_database().tenant_session(tenant_id) as session:
        choice = await choose_for_placement(
            session, tenant_id, BODY["placement"], "ana", generation
        )
    return choice.experiment_id if choice is not None else None


async def _pause_behind_the_services_back(tenant_id: uuid.UUID) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await session.execute(text("UPDATE experiment SET status = 'paused'"))


async def test_a_new_generation_reloads_the_running_experiments(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}/experiments"
    experiment = (await client.post(url, json=BODY, headers=owner.headers)).json()["id"]
    assert (await client.post(f"{url}/{experiment}/start", headers=owner.headers)).is_success
    tenant_id = uuid.UUID(tenant)

    assert await _decide(tenant_id, 7) == experiment
    await _pause_behind_the_services_back(tenant_id)
    assert await _decide(tenant_id, 7) == experiment  # same generation: from memory
    assert await _decide(tenant_id, 8) is None  # moved on: read again
    assert await _decide(tenant_id, None) is None  # unknown generation: always read
