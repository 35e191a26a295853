"""Hard delete of a tenant: every row of it, in every table that has a `tenant_id`.

The work is `platform_purge_tenant` in SQL: it discovers the tables from the catalog at
run time (so tables of modules added later are covered), deletes referencing tables
first, removes the tenant row and records a `purged_tenant` entry with the counts. It
refuses any tenant not soft-deleted for 30 days, whoever calls it.

The stored files (media, and shared blobs' S3 objects) are not rows: `purge_tenant_files`
deletes them after the rows' transaction has committed, and only for a tenant with a
`purged_tenant` entry, so no failure can delete the files of a tenant still there. A
failure halfway leaves the rest of the files; the purge job is retried, and a retry finds
the rows gone and finishes the files.
"""

from __future__ import annotations

import uuid

from psycopg import errors as pg_errors
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.blobs import shared_blobs
from mercato.kernel.errors import NotFound
from mercato.kernel.logging import get_logger
from mercato.modules.media import purge_tenant_media
from mercato.modules.platform.models import PurgedTenant
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


async def was_purged(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    found = await session.scalar(select(PurgedTenant.id).where(PurgedTenant.id == tenant_id))
    return found is not None


async def purge_tenant_files(tenant_id: uuid.UUID) -> dict[str, int]:
    """Delete a purged tenant's stored files; returns how many per store. The caller has
    checked `was_purged`: this never asks the database."""
    files = {
        "media": await purge_tenant_media(tenant_id),
        "blobs": await shared_blobs().purge_tenant_objects(tenant_id),
    }
    log.info("tenant_files_purged", purged_tenant=str(tenant_id), **files)
    return files
