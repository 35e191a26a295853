"""Run one piece of periodic work for each tenant, so one tenant's failure stops no other.

Periodic jobs (reservation expiry, feed pushes, master-data syncs, model fits, rollups)
walk the tenants one after the other. A tenant whose work raises is logged with its
traceback under `<job>_failed` and skipped; the others still run, and the caller gets the
results of those that succeeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from mercato.kernel.logging import get_logger

log = get_logger("mercato.kernel.tenant_runs")

Result = TypeVar("Result")


async def for_each_tenant(
    job: str,
    tenant_ids: Iterable[uuid.UUID],
    work: Callable[[uuid.UUID], Awaitable[Result]],
) -> dict[uuid.UUID, Result]:
    """`work(tenant_id)` for each tenant in order; failures are logged, never raised."""
    results: dict[uuid.UUID, Result] = {}
    for tenant_id in tenant_ids:
        try:
            results[tenant_id] = await work(tenant_id)
        except Exception:  # one tenant's broken data or link must not stop the others
            log.exception(f"{job}_failed", tenant_id=str(tenant_id))
    return results
