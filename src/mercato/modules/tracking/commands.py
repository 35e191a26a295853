"""`mercato import ga4` and `mercato simulate`: operator commands with progress bars.

Both write through the ingestion service (the GA4 importer / `store_events`), so what
they store is checked, deduplicated and partitioned exactly like API traffic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mercato.kernel.db import Database
from mercato.kernel.errors import NotFound
from mercato.modules.catalog.generator import generate_catalog, generate_locations
from mercato.modules.tracking.ga4 import ga4_export_files
from mercato.modules.tracking.ga4_import import import_ga4_files
from mercato.modules.tracking.ga4_writer import write_ga4_export
from mercato.modules.tracking.import_batches import ImportCounts
from mercato.modules.tracking.ingest import IngestOutcome, store_events
from mercato.modules.tracking.simulator import simulate

SIMULATION_CHUNK = 5_000
COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _file_day(path: Path) -> date:
    return datetime.strptime(path.name.split(".")[0].rsplit("_", 1)[1], "%Y%m%d").date()


def export_files(path: Path, start: date | None, end: date | None) -> list[Path]:
    return [path] if path.is_file() else ga4_export_files(path, start, end)


async def import_ga4(
    database: Database,
    tenant_id: uuid.UUID,
    path: Path,
    *,
    start: date | None,
    end: date | None,
    console: Console,
) -> ImportCounts:
    """Import a GA4 export folder (or one file) for [start, end], default the files' dates."""
    files = export_files(path, start, end)
    if not files:
        raise NotFound(f"No events_YYYYMMDD export files in {path}")
    if start is None or end is None:
        try:
            days = sorted(_file_day(f) for f in files)
        except ValueError as exc:
            raise NotFound(
                f"{path.name} is not named events_YYYYMMDD; pass --start and --end"
            ) from exc
        start, end = start or days[0], end or days[-1]
    with Progress(*COLUMNS, console=console) as progress:
        bar = progress.add_task(f"GA4 {start}..{end}", total=len(files))
        seen: list[str] = []

        def advance(name: str, events: int) -> None:
            if name not in seen:
                if seen:
                    progress.advance(bar)
                seen.append(name)
            progress.update(bar, description=f"{name}: {events:,} events")

        async with database.tenant_session(tenant_id) as session:
            counts = await import_ga4_files(
                session, tenant_id, files, start=start, end=end, progress=advance
            )
        progress.update(bar, completed=len(files), description=f"GA4 {start}..{end}: committed")
    return counts


def _chunks(events: Iterator[Any]) -> Iterator[list[Any]]:
    while chunk := list(islice(events, SIMULATION_CHUNK)):
        yield chunk


async def simulate_into(
    database: Database,
    tenant_id: uuid.UUID,
    *,
    days: int,
    users: int,
    products: int,
    seed: int,
    console: Console | None = None,
) -> IngestOutcome:
    """Simulate `days` of shoppers up to today 00:00 UTC and store them (5,000 a transaction)."""
    end = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    catalog = generate_catalog(products=products, seed=seed, until=end)
    events = simulate(
        catalog=catalog,
        locations=generate_locations(seed),
        days=days,
        users=users,
        seed=seed,
        end=end,
    )
    total = IngestOutcome()
    with Progress(*COLUMNS, console=console, disable=console is None) as progress:
        bar = progress.add_task("simulating", total=None)
        for chunk in _chunks(events):
            async with database.tenant_session(tenant_id) as session:
                outcome = await store_events(
                    session, tenant_id, chunk, source="simulator", max_past=timedelta(days=days + 2)
                )
            total.accepted += outcome.accepted
            total.duplicates += outcome.duplicates
            total.rejected += outcome.rejected
            progress.update(bar, advance=len(chunk), description=f"{total.accepted:,} stored")
    return total


def simulate_to_ga4(
    directory: Path, *, days: int, users: int, products: int, seed: int
) -> list[Path]:
    """The same simulation written as GA4 export files (one per UTC day) instead."""
    end = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    catalog = generate_catalog(products=products, seed=seed, until=end)
    events = simulate(
        catalog=catalog,
        locations=generate_locations(seed),
        days=days,
        users=users,
        seed=seed,
        end=end,
    )
    by_id = {str(p["product_id"]): p for p in catalog.products}
    return write_ga4_export(events, directory, products=by_id)
