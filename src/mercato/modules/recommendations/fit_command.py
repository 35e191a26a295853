"""`mercato reco fit --tenant …`: fit a tenant's model now, with progress on screen.

The tenant is named by id or slug. Heavy imports happen inside, so `mercato` starts fast.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mercato.kernel.db import Database, close_database, init_database
from mercato.kernel.errors import NotFound
from mercato.kernel.redis import close_redis, init_redis
from mercato.modules.identity import resolve_tenant
from mercato.modules.recommendations.event_log import CatalogTable, EventLog
from mercato.settings import get_settings


class UnknownTenantError(LookupError):
    """The command cannot tell which tenant or which data it is about."""


async def _tenant_id(database: Database, name: str) -> uuid.UUID:
    try:
        return await resolve_tenant(database, name)
    except NotFound as unknown:
        raise UnknownTenantError(f"no tenant with id or slug {name!r}") from unknown


async def fit_from_command(
    tenant: str, *, events: Path | None, catalog: Path | None, force: bool, console: Console
) -> None:
    from mercato.modules.recommendations.db_source import DatabaseSource
    from mercato.modules.recommendations.file_source import FileSource
    from mercato.modules.recommendations.fitting import TrainingSource, fit_tenant

    settings = get_settings()
    database = init_database(settings)
    init_redis(settings)
    try:
        tenant_id = await _tenant_id(database, tenant)
        source: TrainingSource
        if events is not None and catalog is not None:
            source = FileSource(events, catalog)
        elif events is None and catalog is None:
            source = DatabaseSource(settings.reco_history_days)
        else:
            raise UnknownTenantError("--events and --catalog go together")
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"fitting {tenant}", total=None)
            outcome = await fit_tenant(
                tenant_id,
                source,
                force=force,
                progress=lambda message: progress.update(task, description=message),
            )
        if outcome.busy:
            console.print("another fit of this tenant is running; try again when it is done")
        elif outcome.skipped:
            console.print(f"nothing changed since version {outcome.version}; use --force to refit")
        else:
            console.print(
                f"[green]version {outcome.version}[/green]: {outcome.events:,} events, "
                f"{outcome.products:,} products, {outcome.users:,} shoppers, "
                f"fitted in {outcome.seconds:.1f}s, {outcome.size_bytes / 1e6:.1f} MB"
            )
    finally:
        await close_redis()
        await close_database()


def run_fit(
    tenant: str, *, events: Path | None, catalog: Path | None, force: bool, console: Console
) -> None:
    asyncio.run(
        fit_from_command(tenant, events=events, catalog=catalog, force=force, console=console)
    )


async def tenant_training_data(tenant: str) -> tuple[EventLog, CatalogTable]:
    """A tenant's events and catalog from the database, as `mercato reco evaluate` reads them."""
    from mercato.modules.recommendations.db_source import DatabaseSource

    settings = get_settings()
    database = init_database(settings)
    try:
        tenant_id = await _tenant_id(database, tenant)
        async with database.read_session(tenant_id) as session:
            events, catalog = await DatabaseSource(settings.reco_history_days).load(
                session, tenant_id
            )
    finally:
        await close_database()
    return events, catalog


def read_tenant(tenant: str) -> tuple[EventLog, CatalogTable]:
    return asyncio.run(tenant_training_data(tenant))
