"""What `mercato simulate` runs: a simulation stored through ingestion, or written as GA4 files.

Stored events go through `store_events`, so they are checked, deduplicated and
partitioned exactly like API traffic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mercato.kernel.db import Database
from mercato.modules.tracking import IngestOutcome, store_events
from mercato.simulation.catalog import generate_catalog, generate_locations
from mercato.simulation.ga4_export import write_ga4_export
from mercato.simulation.simulator import simulate

SIMULATION_CHUNK = 5_000
COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


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
