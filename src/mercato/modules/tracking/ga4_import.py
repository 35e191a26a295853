"""Import GA4 BigQuery-export files (NDJSON, plain or gzip) into a tenant's events.

Files are `events_YYYYMMDD.json[.gz]`, as `bq extract` names them; those dated within
[start, end] are read with `ga4.read_ga4_export` and written through `RangeWriter`, which
first replaces the range for source `ga4_file`.

Where the files come from:
- uploads (`POST …/ingest/import`) are the tenant's shared blobs `ga4/<file name>`
  (`mercato.kernel.blobs`), so the worker that imports them may run on any machine; they
  stay until the tenant deletes them (a re-import of the range needs them again), within
  `MERCATO_IMPORT_QUOTA_BYTES`;
- files an operator drops in the server folder `MERCATO_IMPORT_DIR/<tenant>/ga4/` are
  read where the job runs, so with workers on several machines that folder must be one
  every machine mounts (or the files uploaded instead).
An upload and a folder file of the same name: the upload is read.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.blobs import BlobTooLarge, shared_blobs
from mercato.kernel.errors import DomainError, NotFound, ValidationFailed, field_error
from mercato.modules.tracking.ga4 import (
    GA4ReadReport,
    ReadLimits,
    dated_within,
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
UPLOADS = "ga4/"


class ImportQuotaExceeded(DomainError):
    status, slug, title = 413, "import-quota-exceeded", "The tenant's stored import files are full"


# Called after each chunk with (file name, events read so far in it).
Progress = Callable[[str, int], None]


def tenant_import_dir(settings: Settings, tenant_id: uuid.UUID) -> Path:
    """Where an operator drops a tenant's GA4 export files on the server."""
    return settings.resolved_import_dir / str(tenant_id) / "ga4"


@dataclass(frozen=True)
class ExportFile:
    """One export file a job reads: an upload (a shared blob) or a server-folder file."""

    tenant_id: uuid.UUID
    name: str
    path: Path | None = None

    @asynccontextmanager
    async def local(self) -> AsyncIterator[Path]:
        """A path to read it from: the folder file itself, or a scratch copy of the
        upload that is removed afterwards."""
        if self.path is not None:
            yield self.path
            return
        with tempfile.TemporaryDirectory(prefix="mercato-ga4-") as scratch:
            copy = Path(scratch) / self.name
            await shared_blobs().download(self.tenant_id, UPLOADS + self.name, copy)
            yield copy


async def _uploaded(tenant_id: uuid.UUID) -> list[str]:
    """Names of the tenant's uploaded export files."""
    stored = await shared_blobs().entries(tenant_id, UPLOADS)
    return [blob.key.removeprefix(UPLOADS) for blob in stored]


async def export_sources(
    settings: Settings,
    tenant_id: uuid.UUID,
    relative: str | None,
    start: date | None = None,
    end: date | None = None,
) -> list[ExportFile]:
    """The files a `ga4_file` import of `relative` (an uploaded file's name, or a file or
    sub-folder of the server folder; none = everything) reads for [start, end] (all dates
    when unset: a request is checked before its job runs). 404 when there is nothing at
    `relative`, or no upload and no server folder at all."""
    uploads = await _uploaded(tenant_id)
    if relative is not None and relative in uploads:
        return [ExportFile(tenant_id, relative)]
    if relative is None and uploads and not tenant_import_dir(settings, tenant_id).exists():
        return [ExportFile(tenant_id, name) for name in uploads if dated_within(name, start, end)]
    path = resolve_tenant_path(settings, tenant_id, relative)
    on_disk = [ExportFile(tenant_id, p.name, p) for p in export_files(path, start, end)]
    if relative is not None:
        return on_disk
    picked = [ExportFile(tenant_id, name) for name in uploads if dated_within(name, start, end)]
    picked += [f for f in on_disk if f.name not in uploads]
    return sorted(picked, key=lambda f: f.name)


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


def export_files(path: Path, start: date | None, end: date | None) -> list[Path]:
    """One file, or the dated export files of a folder within [start, end]."""
    return [path] if path.is_file() else ga4_export_files(path, start, end)


def _chunks(iterator: Iterator[Any]) -> Iterator[list[Any]]:
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


async def import_ga4_files(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    files: list[ExportFile],
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
    for export in files:
        report = GA4ReadReport()
        done = 0
        async with export.local() as path:
            chunks = _chunks(read_ga4_export(path, limits=limits, report=report))
            while chunk := await asyncio.to_thread(next, chunks, None):
                await writer.write(chunk)
                done += len(chunk)
                if progress:
                    progress(export.name, done)
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
    """Keep an uploaded export file as the tenant's shared blob; the bytes written.

    A job never reads half a file: the blob is readable once complete, replacing a
    previous upload of the same name. The tenant's uploads hold at most
    `MERCATO_IMPORT_QUOTA_BYTES` (uploads in progress included, a file being replaced
    not): 413 `import-quota-exceeded` beyond, and nothing of this upload is kept.
    """
    blobs, key = shared_blobs(), UPLOADS + file_name
    room = settings.import_quota_bytes - await blobs.stored_bytes(tenant_id, UPLOADS, replacing=key)
    try:
        stored = await blobs.put(tenant_id, key, chunks, limit=max(room, 0))
    except BlobTooLarge:
        raise ImportQuotaExceeded(
            f"The tenant's import files may take {settings.import_quota_bytes} bytes in "
            "all; delete files already imported (DELETE …/ingest/import/{file_name})"
        ) from None
    return stored.size_bytes


async def delete_export_file(settings: Settings, tenant_id: uuid.UUID, file_name: str) -> None:
    """Remove one uploaded export file, or else the server folder's file of that name
    (where uploads went before they were shared blobs); 404 if there is neither."""
    if await shared_blobs().delete(tenant_id, [UPLOADS + file_name]):
        return
    path = tenant_import_dir(settings, tenant_id) / file_name
    if not await asyncio.to_thread(path.is_file):
        raise NotFound(f"No export file {file_name} uploaded or in the tenant's import folder")
    await asyncio.to_thread(path.unlink, missing_ok=True)
