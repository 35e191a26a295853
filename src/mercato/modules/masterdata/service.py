"""Master-data sync: download users.csv and locations.csv by SFTP and apply them.

A sync applies every good row and reports every bad one (file, row, column, reason).
Locations go through `locations.upsert_location` (kind from the file, default branch);
sales reps are upserted by their id, their location list replaced, and reps missing from
the file are marked inactive. All of it is one transaction: a failed download or a
rejected file leaves the previous master data untouched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.errors import Conflict, NotFound
from mercato.kernel.jobs import defer
from mercato.kernel.logging import get_logger
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.integrations import get_integration_config, open_sftp
from mercato.modules.locations import LocationWrite, list_locations, upsert_location
from mercato.modules.masterdata.csv_files import (
    FileRejected,
    FileTooLarge,
    Parsed,
    Problem,
    max_file_bytes,
    parse_locations,
    parse_reps,
)
from mercato.modules.masterdata.models import MasterDataSync, SalesRep, SalesRepLocation

log = get_logger("mercato.masterdata")


class SftpNotConfigured(Conflict):
    slug, title = "integration-not-configured", "The SFTP integration is not configured"


@dataclass
class SyncReport:
    rows: int = 0
    stored: int = 0
    locations: int = 0
    sales_reps: int = 0
    deactivated: int = 0
    problems: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "stored": self.stored,
            "locations": self.locations,
            "sales_reps": self.sales_reps,
            "deactivated": self.deactivated,
            "problems": len(self.problems),
        }


async def _download(config: dict[str, Any]) -> tuple[bytes, bytes]:
    """Both files, each at most `MERCATO_MASTERDATA_MAX_FILE_BYTES`.

    The size the server reports is only a first check: the read itself stops one byte past
    the limit, so a server that under-reports cannot make the worker read without end.
    """
    limit = max_file_bytes()
    async with open_sftp(config) as sftp:
        contents: list[bytes] = []
        for path in (config["users_path"], config["locations_path"]):
            if not await sftp.exists(path):
                raise FileRejected(f"{path} is not on the SFTP server")
            if ((await sftp.stat(path)).size or 0) > limit:
                raise FileTooLarge(path, limit)
            async with sftp.open(path, "rb") as handle:
                data = await handle.read(limit + 1)
            if len(data) > limit:
                raise FileTooLarge(path, limit)
            contents.append(data if isinstance(data, bytes) else data.encode())
    return contents[0], contents[1]


async def _store_reps(session: AsyncSession, tenant_id: uuid.UUID, parsed: Parsed) -> int:
    if parsed.reps:
        statement = insert(SalesRep).values(
            [
                {
                    "tenant_id": tenant_id,
                    "rep_id": r.rep_id,
                    "name": r.name,
                    "email": r.email,
                    "active": True,
                }
                for r in parsed.reps
            ]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "rep_id"],
                set_={
                    "name": statement.excluded.name,
                    "email": statement.excluded.email,
                    "active": True,
                    "updated_at": datetime.now(UTC),
                },
            )
        )
    listed = [r.rep_id for r in parsed.reps]
    await session.execute(delete(SalesRepLocation).where(SalesRepLocation.tenant_id == tenant_id))
    links = [
        {"tenant_id": tenant_id, "rep_id": r.rep_id, "location_code": code}
        for r in parsed.reps
        for code in r.location_codes
    ]
    if links:
        await session.execute(insert(SalesRepLocation).values(links))
    result = await session.execute(
        update(SalesRep)
        .where(
            SalesRep.tenant_id == tenant_id,
            SalesRep.active.is_(True),
            SalesRep.rep_id.not_in(listed),
        )
        .values(active=False, updated_at=datetime.now(UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def apply_files(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    users: bytes,
    locations: bytes,
    *,
    names: tuple[str, str],
) -> SyncReport:
    """Apply the two files' good rows; the report lists the bad ones."""
    parsed = Parsed()
    parse_locations(names[1], locations, parsed)
    known = {loc.code for loc in await list_locations(session, include_archived=True)}
    known |= {loc.code for loc in parsed.locations}
    parse_reps(names[0], users, known, parsed)
    for loc in parsed.locations:
        await upsert_location(
            session,
            tenant_id,
            loc.code,
            LocationWrite(name=loc.name, kind=loc.kind, address=loc.address, timezone=loc.timezone),
        )
    deactivated = await _store_reps(session, tenant_id, parsed)
    return SyncReport(
        rows=parsed.rows,
        stored=len(parsed.locations) + len(parsed.reps),
        locations=len(parsed.locations),
        sales_reps=len(parsed.reps),
        deactivated=deactivated,
        problems=parsed.problems,
    )


async def _sync(session: AsyncSession, tenant_id: uuid.UUID) -> SyncReport:
    config = await get_integration_config(session, tenant_id, "sftp")
    if config is None:
        raise SftpNotConfigured("Configure the sftp integration first")
    users, locations = await _download(config)
    return await apply_files(
        session, tenant_id, users, locations, names=(config["users_path"], config["locations_path"])
    )


def _problems_json(report: SyncReport) -> list[dict[str, Any]]:
    return [p.__dict__ for p in report.problems]


async def sync_master_data(
    session: AsyncSession, tenant_id: uuid.UUID, *, trigger: str = "ingest_job"
) -> SyncReport:
    """Sync now in the caller's transaction and record the run (used by ingestion jobs)."""
    report = await _sync(session, tenant_id)
    session.add(
        MasterDataSync(
            tenant_id=tenant_id,
            trigger=trigger,
            status="completed",
            counts=report.counts(),
            problems=_problems_json(report),
            finished_at=datetime.now(UTC),
        )
    )
    await session.flush()
    return report


async def request_sync(session: AsyncSession, principal: TenantPrincipal) -> MasterDataSync:
    """Queue a sync now; 409 when no SFTP integration is configured."""
    principal.require(Permission.MASTERDATA_WRITE)
    if await get_integration_config(session, principal.tenant_id, "sftp") is None:
        raise SftpNotConfigured("Configure the sftp integration first (PUT …/integrations/sftp)")
    run = MasterDataSync(
        tenant_id=principal.tenant_id, trigger="manual", status="queued", counts={}, problems=[]
    )
    session.add(run)
    await session.flush()
    await defer(session, "masterdata.sync", tenant_id=str(principal.tenant_id), sync_id=str(run.id))
    return run


async def _finish(tenant_id: uuid.UUID, sync_id: uuid.UUID, **values: Any) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await session.execute(
            update(MasterDataSync)
            .where(MasterDataSync.tenant_id == tenant_id, MasterDataSync.id == sync_id)
            .values(finished_at=datetime.now(UTC), **values)
        )


async def run_sync(tenant_id: uuid.UUID, sync_id: uuid.UUID) -> str:
    """Run a queued sync; the run row ends `completed` (maybe with problems) or `failed`."""
    await _finish(tenant_id, sync_id, status="running")
    try:
        async with get_database().tenant_session(tenant_id) as session:
            report = await _sync(session, tenant_id)
    except Exception as exc:
        log.warning("masterdata_sync_failed", tenant_id=str(tenant_id), error=str(exc))
        await _finish(
            tenant_id, sync_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return "failed"
    await _finish(
        tenant_id,
        sync_id,
        status="completed",
        counts=report.counts(),
        problems=_problems_json(report),
    )
    return "completed"


async def list_syncs(
    session: AsyncSession, principal: Principal, *, limit: int | None, cursor: str | None
) -> tuple[list[MasterDataSync], str | None]:
    principal.require(Permission.MASTERDATA_READ)
    size = clamp_limit(limit)
    query = select(MasterDataSync).where(MasterDataSync.tenant_id == principal.tenant_id)
    position = read_cursor(cursor, lambda c: (datetime.fromisoformat(c["t"]), uuid.UUID(c["id"])))
    if position is not None:
        query = query.where(
            tuple_(MasterDataSync.created_at, MasterDataSync.id)
            < tuple_(literal(position[0]), literal(position[1]))
        )
    rows = list(
        (
            await session.scalars(
                query.order_by(MasterDataSync.created_at.desc(), MasterDataSync.id.desc()).limit(
                    size + 1
                )
            )
        ).all()
    )
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    return rows[:size], encode_cursor({"t": last.created_at.isoformat(), "id": str(last.id)})


async def get_sync(
    session: AsyncSession, principal: Principal, sync_id: uuid.UUID
) -> MasterDataSync:
    principal.require(Permission.MASTERDATA_READ)
    run = await session.get(MasterDataSync, (principal.tenant_id, sync_id))
    if run is None:
        raise NotFound("No such sync")
    return run


async def list_sales_reps(
    session: AsyncSession, principal: Principal, *, include_inactive: bool = False
) -> list[tuple[SalesRep, list[str]]]:
    """The tenant's sales reps with their location codes, by id."""
    principal.require(Permission.MASTERDATA_READ)
    query = (
        select(SalesRep).where(SalesRep.tenant_id == principal.tenant_id).order_by(SalesRep.rep_id)
    )
    if not include_inactive:
        query = query.where(SalesRep.active.is_(True))
    reps = list((await session.scalars(query)).all())
    links = await session.execute(
        select(SalesRepLocation.rep_id, SalesRepLocation.location_code)
        .where(SalesRepLocation.tenant_id == principal.tenant_id)
        .order_by(SalesRepLocation.location_code)
    )
    codes: dict[str, list[str]] = {}
    for rep_id, code in links:
        codes.setdefault(rep_id, []).append(code)
    return [(rep, codes.get(rep.rep_id, [])) for rep in reps]
