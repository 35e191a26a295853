"""Import GA4 BigQuery-export files (NDJSON, plain or gzip) into a tenant's events.

Files are `events_YYYYMMDD.json[.gz]`, as `bq extract` names them; those dated within
[start, end] are read with `ga4.read_ga4_export` and written through `RangeWriter`, which
first replaces the range for source `ga4_file`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import DomainError, NotFound, ValidationFailed, field_error
from mercato.modules.tracking.ga4 import (
    GA4ReadReport,
    ReadLimits,
    ga4_export_files,
    read_ga4_export,
)
from mercato.modules.tracking.import_batches import (
    CHUNK,
    ImportCounts,
    RangeWriter,
    replace_range,
    retention_days,
)
from mercato.settings import Settings, get_settings

SOURCE = "ga4_file"
PARTIAL_SUFFIX = ".part"


class ImportQuotaExceeded(DomainError):
    status, slug, title = 413, "import-quota-exceeded", "The tenant's stored import files are full"


# Called after each chunk with (file name, events read so far in it).
Progress = Callable[[str, int], None]


def tenant_import_dir(settings: Settings, tenant_id: uuid.UUID) -> Path:
    """Where a tenant's GA4 export files are dropped on the server."""
    return settings.resolved_import_dir / str(tenant_id) / "ga4"


def resolve_tenant_path(settings: Settings, tenant_id: uuid.UUID, relative: str | None) -> Path:
    """A folder or file inside the tenant's import folder; anything outside it is refused."""
    root = tenant_import_dir(settings, tenant_id).resolve()
    target = (root / relative).resolve() if relative else root
    if target != root and root not in target.parents:
        raise ValidationFailed(
            "`path` must stay inside the tenant's import folder",
            errors=[field_error("path", "leaves the import folder")],
        )
    try:
        present = target.exists()
    except OSError as exc:  # a name the file system cannot hold (too long, …)
        raise ValidationFailed(
            "`path` is not a usable file name here",
            errors=[field_error("path", exc.strerror or "not a usable file name")],
        ) from None
    if not present:
        raise NotFound(f"Nothing to import at {relative or 'the import folder'}")
    return target


def export_files(path: Path, start: date, end: date) -> list[Path]:
    """One file, or the dated export files of a folder within [start, end]."""
    return [path] if path.is_file() else ga4_export_files(path, start, end)


def _chunks(iterator: Iterator[Any]) -> Iterator[list[Any]]:
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


async def import_ga4_files(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    files: list[Path],
    *,
    start: date,
    end: date,
    counts: ImportCounts | None = None,
    progress: Progress | None = None,
) -> ImportCounts:
    """Replace `ga4_file` events in [start, end] with those in `files` (one transaction).

    Parsing runs in a worker thread chunk by chunk so the event loop stays responsive. A
    file past the read limits raises `ExportFileRefused` and the whole import rolls back.
    """
    settings = get_settings()
    limits = ReadLimits(total=settings.ga4_max_decompressed_bytes, line=settings.ga4_max_line_bytes)
    counts = counts or ImportCounts()
    counts.replaced += await replace_range(session, tenant_id, SOURCE, start, end)
    writer = RangeWriter(
        session,
        tenant_id,
        source=SOURCE,
        start=start,
        end=end,
        retention=await retention_days(session, tenant_id),
        counts=counts,
    )
    for path in files:
        report = GA4ReadReport()
        chunks = _chunks(read_ga4_export(path, limits=limits, report=report))
        done = 0
        while chunk := await asyncio.to_thread(next, chunks, None):
            await writer.write(chunk)
            done += len(chunk)
            if progress:
                progress(path.name, done)
        counts.files += 1
        counts.rows += report.rows
        for name, skipped in report.skipped.items():
            counts.skipped[name] = counts.skipped.get(name, 0) + skipped
        for error in report.errors[:10]:
            counts.note_error(f"{error.source} line {error.row}: {error.reason}")
        counts.row_errors += len(report.errors)
    return counts


EXPORT_FILE_NAME = r"^events_[0-9]{8}\.jsonl?(\.gz)?$"


async def save_export_file(
    settings: Settings, tenant_id: uuid.UUID, file_name: str, chunks: AsyncIterator[bytes]
) -> int:
    """Store an uploaded export file in the tenant's import folder; the bytes written.

    Written under a temporary name and renamed at the end, so a job never reads half a file.
    The tenant's folder holds at most `MERCATO_IMPORT_QUOTA_BYTES` (files being uploaded
    included, a file being replaced not): 413 `import-quota-exceeded` beyond, and the
    partial upload is removed.
    """
    folder = tenant_import_dir(settings, tenant_id)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    room = settings.import_quota_bytes - await asyncio.to_thread(_stored_bytes, folder, file_name)
    partial = folder / f".{file_name}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}"
    size = 0
    handle = await asyncio.to_thread(partial.open, "wb")
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > room:
                raise ImportQuotaExceeded(
                    f"The tenant's import files may take {settings.import_quota_bytes} bytes in "
                    "all; delete files already imported (DELETE …/ingest/import/{file_name})"
                )
            await asyncio.to_thread(handle.write, chunk)
    except BaseException:
        handle.close()
        partial.unlink(missing_ok=True)
        raise
    handle.close()
    await asyncio.to_thread(partial.replace, folder / file_name)
    return size


def _stored_bytes(folder: Path, replacing: str) -> int:
    """Bytes the tenant's import folder holds, other than the file an upload replaces."""
    return sum(
        entry.stat().st_size
        for entry in folder.rglob("*")
        if entry.is_file() and entry != folder / replacing
    )


async def delete_export_file(settings: Settings, tenant_id: uuid.UUID, file_name: str) -> None:
    """Remove one export file from the tenant's import folder; 404 if it is not there."""
    path = tenant_import_dir(settings, tenant_id) / file_name
    if not await asyncio.to_thread(path.is_file):
        raise NotFound(f"No export file {file_name} in the tenant's import folder")
    await asyncio.to_thread(path.unlink, missing_ok=True)
