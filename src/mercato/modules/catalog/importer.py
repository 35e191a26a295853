"""`mercato import products FILE.csv|.jsonl --tenant …`: resumable bulk import.

The file is read in chunks of `chunk_size` rows; each chunk is validated and upserted in
its own transaction, which also records the chunk in `product_import_chunk`. An import is
identified by the file's SHA-256 and the chunk size, so `--resume` after a crash or Ctrl-C
skips exactly the chunks that committed. Rejected rows go to `<file>.rejected.jsonl`.

A dashboard upload is checked and counted by the API process that receives it, stored as
the tenant's shared blob `catalog/uploads/<import id><suffix>` (`mercato.kernel.blobs`,
so a worker on any machine finds it) and imported by the job `catalog.import_upload`,
which deletes the blob once the import finished; one the job never finished expires
after `UPLOAD_KEPT` (the daily retention job sweeps it).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from mercato.kernel.blobs import shared_blobs
from mercato.kernel.db import Database
from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.jobs import defer
from mercato.modules.catalog.batch import validate_rows, write_chunk
from mercato.modules.catalog.export import row_from_csv
from mercato.modules.catalog.models import ProductImport, ProductImportChunk
from mercato.modules.catalog.schemas import BatchFailure
from mercato.modules.catalog.upsert import UpsertOutcome

FORMATS = (".csv", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class Record:
    """One row of the file: a product body, or why the line could not be read."""

    index: int
    body: dict[str, Any] | None
    problem: str | None = None


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    chunks_written: int = 0
    chunks_skipped: int = 0
    failures: list[BatchFailure] = field(default_factory=list)
    rejected_file: Path | None = None


def read_records(path: Path) -> Iterator[Record]:
    """Rows of a CSV (header = product fields, as exported) or a JSON-lines file."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path.name}: expected one of {', '.join(FORMATS)}")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if suffix == ".csv":
            for index, record in enumerate(csv.DictReader(handle)):
                yield Record(index, row_from_csv(record))
            return
        index = 0
        for line in handle:
            if not line.strip():
                continue
            try:
                body = json.loads(line)
            except ValueError as exc:
                yield Record(index, None, f"line is not JSON: {exc}")
            else:
                if isinstance(body, dict):
                    yield Record(index, body)
                else:
                    yield Record(index, None, "line is not a JSON object")
            index += 1


def fingerprint(path: Path) -> tuple[str, int]:
    """The file's SHA-256 and its number of rows (one pass each, streamed)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    rows = sum(1 for _ in read_records(path))
    return digest.hexdigest(), rows


async def _done_chunks(
    session: AsyncSession, tenant_id: uuid.UUID, import_id: uuid.UUID
) -> set[int]:
    done = await session.scalars(
        select(ProductImportChunk.chunk_no).where(
            ProductImportChunk.tenant_id == tenant_id,
            ProductImportChunk.import_id == import_id,
        )
    )
    return set(done)


async def _start(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    path: Path,
    digest: str,
    rows: int,
    chunk_size: int,
    resume: bool,
    import_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, set[int]]:
    if import_id is not None:  # a run queued from an upload: its row exists already
        return import_id, await _done_chunks(session, tenant_id, import_id)
    if resume:
        previous = await session.scalar(
            select(ProductImport)
            .where(
                ProductImport.tenant_id == tenant_id,
                ProductImport.source_sha256 == digest,
                ProductImport.chunk_size == chunk_size,
            )
            .order_by(ProductImport.created_at.desc())
            .limit(1)
        )
        if previous is not None:
            done = await session.scalars(
                select(ProductImportChunk.chunk_no).where(
                    ProductImportChunk.tenant_id == tenant_id,
                    ProductImportChunk.import_id == previous.id,
                )
            )
            return previous.id, set(done)
    run = ProductImport(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        source_name=path.name,
        source_sha256=digest,
        chunk_size=chunk_size,
        rows_total=rows,
    )
    session.add(run)
    await session.flush()
    return run.id, set()


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while chunk := list(islice(records, size)):
        yield chunk


async def import_file(
    database: Database,
    tenant_id: uuid.UUID,
    path: Path,
    *,
    chunk_size: int = 1_000,
    resume: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    import_id: uuid.UUID | None = None,
    write_rejected: bool = True,
) -> ImportReport:
    """Import `path` into the tenant; `on_progress(rows_done, rows_total)` after each chunk.

    With `import_id` (an upload's `ProductImport`), chunks that run already committed are
    skipped, so a retried job continues where the last attempt stopped. `write_rejected`
    False leaves the rejected rows in the report only (no file beside `path`).
    """
    digest, total = fingerprint(path)
    async with database.tenant_session(tenant_id) as session:
        import_id, done = await _start(
            session, tenant_id, path, digest, total, chunk_size, resume, import_id
        )
    report = ImportReport(rows=total)
    rows_done = 0
    for chunk_no, chunk in enumerate(_chunks(read_records(path), chunk_size)):
        rows_done += len(chunk)
        if chunk_no in done:
            report.chunks_skipped += 1
        else:
            await _import_chunk(database, tenant_id, import_id, chunk_no, chunk, report)
            report.chunks_written += 1
        if on_progress is not None:
            on_progress(rows_done, total)
    async with database.tenant_session(tenant_id) as session:
        await session.execute(
            update(ProductImport)
            .where(ProductImport.tenant_id == tenant_id, ProductImport.id == import_id)
            .values(finished_at=func.now())
        )
    if report.failures and write_rejected:
        report.rejected_file = _write_rejected(path, report.failures, append=resume)
    return report


async def _import_chunk(
    database: Database,
    tenant_id: uuid.UUID,
    import_id: uuid.UUID,
    chunk_no: int,
    chunk: list[Record],
    report: ImportReport,
) -> None:
    unreadable = [
        BatchFailure(index=r.index, errors=[field_error("row", r.problem or "unreadable")])
        for r in chunk
        if r.body is None
    ]
    readable = [r for r in chunk if r.body is not None]
    valid, invalid = validate_rows(
        [r.body or {} for r in readable], indexes=[r.index for r in readable]
    )

    async def record(session: AsyncSession, outcome: UpsertOutcome, rejected: list[Any]) -> None:
        session.add(
            ProductImportChunk(
                tenant_id=tenant_id,
                import_id=import_id,
                chunk_no=chunk_no,
                created=len(outcome.created),
                updated=outcome.replaced,
                failed=len(unreadable) + len(invalid) + len(rejected),
            )
        )
        await session.flush()

    outcome, rejected = await write_chunk(database, tenant_id, valid, hook=record)
    report.created += len(outcome.created)
    report.updated += outcome.replaced
    report.failures += sorted([*unreadable, *invalid, *rejected], key=lambda f: f.index)


def _write_rejected(path: Path, failures: list[BatchFailure], *, append: bool) -> Path:
    target = path.with_name(path.name + ".rejected.jsonl")
    with target.open("a" if append else "w", encoding="utf-8") as handle:
        for failure in failures:
            handle.write(failure.model_dump_json() + "\n")
    return target


# Uploads from the dashboard: stored as shared blobs, imported by a job -----------------

UPLOAD_CHUNK_ROWS = 200
UPLOAD_KEPT = timedelta(days=7)
UPLOADS = "catalog/uploads/"


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is: rows read so far of the file's rows, and their outcomes."""

    id: uuid.UUID
    source_name: str
    created_at: datetime
    finished_at: datetime | None
    rows_total: int
    rows_done: int
    created: int
    updated: int
    failed: int

    @property
    def percent(self) -> int:
        if self.finished_at is not None or self.rows_total == 0:
            return 100
        return min(99, round(100 * self.rows_done / self.rows_total))


async def _upload_key(tenant_id: uuid.UUID, import_id: uuid.UUID) -> str | None:
    found = await shared_blobs().entries(tenant_id, f"{UPLOADS}{import_id}.")
    return found[0].key if found else None


def _file_problem(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[field_error("file", message)])


def _spool(upload: BinaryIO, path: Path) -> bool:
    """Copy the upload to a scratch file; whether it holds anything but whitespace."""
    with path.open("wb") as handle:
        shutil.copyfileobj(upload, handle, 1 << 20)
    with path.open("rb") as handle:
        return any(block.strip() for block in iter(lambda: handle.read(1 << 20), b""))


async def queue_upload(
    session: AsyncSession, tenant_id: uuid.UUID, filename: str, upload: BinaryIO
) -> ProductImport:
    """Keep an uploaded CSV/JSON-lines file and queue its import (422 for a file we cannot
    read). The job `catalog.import_upload` imports it chunk by chunk, resumably, on
    whichever machine runs it: the file is kept as a shared blob, not on this disk."""
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise _file_problem(f"a {', '.join(FORMATS)} file, as `mercato import products` reads")
    import_id = uuid.uuid4()
    with tempfile.TemporaryDirectory(prefix="mercato-upload-") as scratch:
        path = Path(scratch) / f"{import_id}{suffix}"
        if not await asyncio.to_thread(_spool, upload, path):
            raise _file_problem("the file is empty")
        try:
            digest, rows = await asyncio.to_thread(fingerprint, path)
        except (UnicodeDecodeError, csv.Error) as unreadable:
            raise _file_problem(f"the file cannot be read as UTF-8 {suffix}") from unreadable
        if rows == 0:
            raise _file_problem("the file has no rows")
        await shared_blobs().put_file(
            tenant_id,
            f"{UPLOADS}{import_id}{suffix}",
            path,
            content_type="text/csv" if suffix == ".csv" else "application/x-ndjson",
            expires_at=datetime.now(UTC) + UPLOAD_KEPT,
        )
    run = ProductImport(
        tenant_id=tenant_id,
        id=import_id,
        source_name=Path(filename).name[:200] or path.name,
        source_sha256=digest,
        chunk_size=UPLOAD_CHUNK_ROWS,
        rows_total=rows,
    )
    session.add(run)
    await session.flush()
    await defer(
        session, "catalog.import_upload", tenant_id=str(tenant_id), import_id=str(import_id)
    )
    return run


async def run_upload(database: Database, tenant_id: uuid.UUID, import_id: uuid.UUID) -> None:
    """The job's work: import the stored file of `import_id` (nothing if it is gone), then
    delete it."""
    async with database.tenant_session(tenant_id) as session:
        run = await session.get(ProductImport, (tenant_id, import_id))
    key = await _upload_key(tenant_id, import_id)
    if run is None or key is None:
        return
    if run.finished_at is None:
        with tempfile.TemporaryDirectory(prefix="mercato-import-") as scratch:
            path = Path(scratch) / key.removeprefix(UPLOADS)
            await shared_blobs().download(tenant_id, key, path)
            await import_file(
                database,
                tenant_id,
                path,
                chunk_size=run.chunk_size,
                import_id=import_id,
                write_rejected=False,
            )
    await shared_blobs().delete(tenant_id, [key])


async def import_progress(
    session: AsyncSession, tenant_id: uuid.UUID, import_id: uuid.UUID
) -> ImportProgress:
    run = await session.get(ProductImport, (tenant_id, import_id))
    if run is None:
        raise NotFound("No such import")
    return (await _progress(session, tenant_id, [run]))[0]


async def recent_imports(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int = 10
) -> list[ImportProgress]:
    """The tenant's latest imports (uploads and command-line runs), newest first."""
    runs = await session.scalars(
        select(ProductImport)
        .where(ProductImport.tenant_id == tenant_id)
        .order_by(ProductImport.created_at.desc(), ProductImport.id)
        .limit(limit)
    )
    return await _progress(session, tenant_id, list(runs))


async def _progress(
    session: AsyncSession, tenant_id: uuid.UUID, runs: list[ProductImport]
) -> list[ImportProgress]:
    if not runs:
        return []
    totals = {
        import_id: (created, updated, failed)
        for import_id, created, updated, failed in await session.execute(
            select(
                ProductImportChunk.import_id,
                func.sum(ProductImportChunk.created),
                func.sum(ProductImportChunk.updated),
                func.sum(ProductImportChunk.failed),
            )
            .where(
                ProductImportChunk.tenant_id == tenant_id,
                ProductImportChunk.import_id.in_([run.id for run in runs]),
            )
            .group_by(ProductImportChunk.import_id)
        )
    }
    found = []
    for run in runs:
        created, updated, failed = (int(n or 0) for n in totals.get(run.id, (0, 0, 0)))
        rows_total = run.rows_total or 0
        done = created + updated + failed
        found.append(
            ImportProgress(
                id=run.id,
                source_name=run.source_name,
                created_at=run.created_at,
                finished_at=run.finished_at,
                rows_total=max(rows_total, done),
                rows_done=done,
                created=created,
                updated=updated,
                failed=failed,
            )
        )
    return found
