"""Hard delete of a tenant: every row of it, in every table that has a `tenant_id`.

The work is `platform_purge_tenant` in SQL: it discovers the tables from the catalog at
run time (so tables of modules added later are covered), deletes referencing tables
first, removes the tenant row and records a `purged_tenant` entry with the counts. It
refuses any tenant not soft-deleted for 30 days, whoever calls it.
"""

from __future__ import annotations

import uuid

from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import NotFound
from mercato.kernel.logging import get_logger
from mercato.modules.platform.tenants import PurgeWindowOpen

log = get_logger("mercato.platform.purge")


async def purge_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, int]:
    """Delete the tenant's rows everywhere; returns rows deleted per table."""
    try:
        rows = await session.execute(
            text("SELECT table_name, deleted FROM platform_purge_tenant(:tenant)"),
            {"tenant": tenant_id},
        )
        deleted = {name: int(count) for name, count in rows.all()}
    except DBAPIError as exc:
        if isinstance(exc.orig, pg_errors.ObjectNotInPrerequisiteState):
            raise PurgeWindowOpen(str(exc.orig).splitlines()[0]) from exc
        if isinstance(exc.orig, pg_errors.NoDataFound):
            raise NotFound("No such tenant") from exc
        raise
    log.info("tenant_purged", purged_tenant=str(tenant_id), rows=sum(deleted.values()))
    return deleted
