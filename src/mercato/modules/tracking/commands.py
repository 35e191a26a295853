"""`mercato import ga4`: the operator command with a progress bar.

It writes through the GA4 importer, so what it stores is checked, deduplicated and
partitioned exactly like API traffic.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mercato.kernel.db import Database
from mercato.kernel.errors import NotFound
from mercato.modules.tracking.ga4_import import ExportFile, export_files, import_ga4_files
from mercato.modules.tracking.import_batches import ImportCounts

COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _file_day(path: Path) -> date:
    return datetime.strptime(path.name.split(".")[0].rsplit("_", 1)[1], "%Y%m%d").date()


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
                session,
                tenant_id,
                [ExportFile(tenant_id, f.name, f) for f in files],
                start=start,
                end=end,
                progress=advance,
            )
        progress.update(bar, completed=len(files), description=f"GA4 {start}..{end}: committed")
    return counts
