"""The per-tenant runner: one tenant's failure is logged and stops no other tenant."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from structlog.testing import capture_logs

from mercato.kernel.tenant_runs import for_each_tenant


async def test_a_failing_tenant_is_logged_and_skipped() -> None:
    tenants = [uuid.uuid4() for _ in range(3)]
    seen: list[uuid.UUID] = []

    async def work(tenant_id: uuid.UUID) -> int:
        seen.append(tenant_id)
        if tenant_id == tenants[1]:
            raise RuntimeError("broken link")
        return tenants.index(tenant_id)

    with capture_logs() as logs:
        results = await for_each_tenant("feed_daily_push", tenants, work)

    assert seen == tenants
    assert results == {tenants[0]: 0, tenants[2]: 2}
    failures = [entry for entry in logs if entry["event"] == "feed_daily_push_failed"]
    assert [entry["tenant_id"] for entry in failures] == [str(tenants[1])]


async def test_cancellation_is_not_swallowed() -> None:
    async def work(tenant_id: uuid.UUID) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await for_each_tenant("reco_fit", [uuid.uuid4()], work)
