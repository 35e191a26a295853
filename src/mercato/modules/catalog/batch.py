"""Bulk upserts: validate every row, then write valid rows one transaction per chunk.

Used by `POST {T}/products/batch` and `mercato import products`. A row that fails
validation is reported by index and never reaches the database; a chunk the database
rejects is retried row by row inside savepoints, so one bad row never loses good ones.
Committed chunks stay committed even if a later chunk fails.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import Database
from mercato.kernel.errors import field_error
from mercato.kernel.logging import get_logger
from mercato.modules.catalog.schemas import (
    BatchFailure,
    BatchResult,
    ProductCreate,
    validation_errors,
)
from mercato.modules.catalog.upsert import (
    PreparedRows,
    UpsertOutcome,
    prepare_rows,
    upsert_prepared,
)

log = get_logger("mercato.catalog.batch")

DEFAULT_CHUNK = 2_000

ChunkHook = Callable[[AsyncSession, UpsertOutcome, list[BatchFailure]], Awaitable[None]]


@dataclass(frozen=True)
class ValidRow:
    index: int
    item: ProductCreate


def validate_rows(
    rows: Sequence[Mapping[str, Any]], *, indexes: Sequence[int] | None = None
) -> tuple[list[ValidRow], list[BatchFailure]]:
    """Valid rows (the last occurrence of a repeated product_id wins) and failures.

    Rows are reported by their position in `rows`, or by `indexes[position]` when given
    (an import numbers rows by their place in the file).
    """
    valid: dict[str, ValidRow] = {}
    failed: list[BatchFailure] = []
    for position, raw in enumerate(rows):
        index = indexes[position] if indexes is not None else position
        product_id = raw.get("product_id") if isinstance(raw, Mapping) else None
        label = product_id if isinstance(product_id, str) else None
        try:
            item = ProductCreate.model_validate(raw)
        except PydanticValidationError as exc:
            failed.append(
                BatchFailure(index=index, product_id=label, errors=validation_errors(exc))
            )
            continue
        if item.product_id is None:
            error = field_error("product_id", "each item needs its product_id", "missing")
            failed.append(BatchFailure(index=index, product_id=None, errors=[error]))
            continue
        earlier = valid.pop(item.product_id, None)
        if earlier is not None:
            error = field_error(
                "product_id", f"repeated at index {index}, which replaces this row", "duplicate"
            )
            failed.append(BatchFailure(index=earlier.index, product_id=label, errors=[error]))
        valid[item.product_id] = ValidRow(index, item)
    return sorted(valid.values(), key=lambda row: row.index), failed


async def write_chunk(
    database: Database,
    tenant_id: uuid.UUID,
    rows: Sequence[ValidRow],
    *,
    hook: ChunkHook | None = None,
    prepared: PreparedRows | None = None,
) -> tuple[UpsertOutcome, list[BatchFailure]]:
    """Upsert `rows` in one transaction (the hook runs in it too, e.g. to record progress).

    `prepared` is `prepare_rows` of the same rows when the caller encoded them already.
    """
    if prepared is None:
        prepared = prepare_rows([row.item for row in rows])
    try:
        async with database.tenant_session(tenant_id) as session:
            outcome = await upsert_prepared(session, tenant_id, prepared)
            if hook is not None:
                await hook(session, outcome, [])
            return outcome, []
    except DBAPIError as exc:
        log.warning("catalog_chunk_rejected", rows=len(rows), error=str(exc.orig)[:300])
    return await _write_row_by_row(database, tenant_id, rows, hook)


async def _write_row_by_row(
    database: Database,
    tenant_id: uuid.UUID,
    rows: Sequence[ValidRow],
    hook: ChunkHook | None,
) -> tuple[UpsertOutcome, list[BatchFailure]]:
    outcome = UpsertOutcome()
    failed: list[BatchFailure] = []
    async with database.tenant_session(tenant_id) as session:
        for row in rows:
            try:
                async with session.begin_nested():
                    one = await upsert_prepared(session, tenant_id, prepare_rows([row.item]))
            except DBAPIError as exc:
                message = str(exc.orig).splitlines()[0][:300] if exc.orig else "rejected"
                error = field_error("product_id", f"the database rejected it: {message}", "db")
                failed.append(
                    BatchFailure(index=row.index, product_id=row.item.product_id, errors=[error])
                )
                continue
            outcome.created += one.created
            outcome.updated += one.updated
            outcome.unchanged += one.unchanged
        if hook is not None:
            await hook(session, outcome, failed)
    return outcome, failed


def _superseded(rows: Sequence[Mapping[str, Any]]) -> list[BatchFailure]:
    """Rows whose product_id appears again later in the batch (the later row wins)."""
    last: dict[str, int] = {}
    for index, raw in enumerate(rows):
        product_id = raw.get("product_id") if isinstance(raw, Mapping) else None
        if isinstance(product_id, str):
            last[product_id] = index
    failures = []
    for index, raw in enumerate(rows):
        product_id = raw.get("product_id") if isinstance(raw, Mapping) else None
        if isinstance(product_id, str) and last[product_id] != index:
            message = f"repeated at index {last[product_id]}, which replaces this row"
            failures.append(
                BatchFailure(
                    index=index,
                    product_id=product_id,
                    errors=[field_error("product_id", message, "duplicate")],
                )
            )
    return failures


def _prepare(
    rows: Sequence[Mapping[str, Any]], indexes: list[int]
) -> tuple[list[ValidRow], list[BatchFailure], PreparedRows]:
    valid, invalid = validate_rows([rows[i] for i in indexes], indexes=indexes)
    return valid, invalid, prepare_rows([row.item for row in valid])


async def upsert_batch(
    database: Database,
    tenant_id: uuid.UUID,
    rows: Sequence[Mapping[str, Any]],
    *,
    chunk_size: int = DEFAULT_CHUNK,
) -> BatchResult:
    """`POST {T}/products/batch`: validate every row, write valid ones chunk by chunk.

    Validation and encoding of the next chunk run in a worker thread while PostgreSQL
    writes the current one, so the two cores work at the same time.
    """
    failed = _superseded(rows)
    skipped = {failure.index for failure in failed}
    kept = [index for index in range(len(rows)) if index not in skipped]
    chunks = [kept[start : start + chunk_size] for start in range(0, len(kept), chunk_size)]
    created = updated = 0
    upcoming = asyncio.create_task(asyncio.to_thread(_prepare, rows, chunks[0])) if chunks else None
    for number in range(len(chunks)):
        assert upcoming is not None
        valid, invalid, prepared = await upcoming
        upcoming = (
            asyncio.create_task(asyncio.to_thread(_prepare, rows, chunks[number + 1]))
            if number + 1 < len(chunks)
            else None
        )
        outcome, rejected = await write_chunk(database, tenant_id, valid, prepared=prepared)
        created += len(outcome.created)
        updated += outcome.replaced
        failed += invalid + rejected
    return BatchResult(
        created=created, updated=updated, failed=sorted(failed, key=lambda f: f.index)
    )
