"""Google's taxonomy in PostgreSQL: load it (owner role), search it, and the in-process index.

The table is global reference data. Loading replaces it in one transaction: every category
of the file is upserted and ids the new file no longer has are deleted, so an alignment to
a retired category shows up in the precheck as `unknown_google_category`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from mercato.modules.channels.models import GoogleProductCategory
from mercato.modules.channels.taxonomy.file_format import (
    GoogleCategory,
    open_taxonomy_text,
    read_taxonomy_file,
)
from mercato.modules.channels.taxonomy.suggestions import TaxonomyIndex

BATCH = 1_000
MAX_QUERY_WORDS = 8
_QUERY_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class TaxonomyLoad:
    version: str
    loaded: int
    removed: int


async def load_taxonomy(
    connection: AsyncConnection,
    categories: Iterable[GoogleCategory],
    on_batch: Callable[[int], None] | None = None,
) -> TaxonomyLoad:
    """Upsert `categories` (streamed, `BATCH` rows per statement) and drop the ids not in them.

    `connection` belongs to the owner role and the caller commits; `on_batch(n)` is told
    after each batch, for a progress bar. Raises `TaxonomyFormatError` from the parser on a
    malformed file, before anything is committed.
    """
    seen: list[int] = []
    version = ""
    batch: list[dict[str, Any]] = []
    for category in categories:
        version = category.version
        seen.append(category.id)
        batch.append(
            {
                "id": category.id,
                "path": category.path,
                "name": category.name,
                "parent_id": category.parent_id,
                "level": category.level,
                "version": category.version,
            }
        )
        if len(batch) >= BATCH:
            await _upsert(connection, batch)
            if on_batch:
                on_batch(len(batch))
            batch = []
    if batch:
        await _upsert(connection, batch)
        if on_batch:
            on_batch(len(batch))
    if not seen:
        raise ValueError("the taxonomy file lists no category")
    removed = await connection.execute(
        delete(GoogleProductCategory).where(GoogleProductCategory.id.not_in(seen))
    )
    return TaxonomyLoad(version=version, loaded=len(seen), removed=removed.rowcount or 0)


async def load_taxonomy_file(
    owner_url: str, path: Path, on_batch: Callable[[int], None] | None = None
) -> TaxonomyLoad:
    """Stream a taxonomy file into the table in one transaction of the owner role."""
    engine = create_async_engine(owner_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            return await load_taxonomy(connection, read_taxonomy_file(path), on_batch)
    finally:
        await engine.dispose()


def count_categories(path: Path) -> int:
    """Lines after the version header that are not blank: the progress bar's total."""
    with open_taxonomy_text(path) as lines:
        next(lines, None)
        return sum(1 for line in lines if line.strip())


async def _upsert(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    statement = insert(GoogleProductCategory).values(rows)
    excluded = statement.excluded
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[GoogleProductCategory.id],
            set_={
                "path": excluded.path,
                "name": excluded.name,
                "parent_id": excluded.parent_id,
                "level": excluded.level,
                "version": excluded.version,
                "loaded_at": func.now(),
            },
        )
    )


def _category(row: GoogleProductCategory) -> GoogleCategory:
    return GoogleCategory(
        id=row.id,
        path=row.path,
        name=row.name,
        parent_id=row.parent_id,
        level=row.level,
        version=row.version,
    )


async def search_taxonomy(session: AsyncSession, query: str, limit: int) -> list[GoogleCategory]:
    """Categories matching every word of `query` (word prefixes, so "sof" finds "Sofas"),
    leaf matches first, then broader categories; a number finds that id."""
    words = _QUERY_WORD.findall(query.lower())[:MAX_QUERY_WORDS]
    if not words:
        return []
    statement: Select[Any]
    if len(words) == 1 and words[0].isascii() and words[0].isdigit() and len(words[0]) <= 9:
        statement = select(GoogleProductCategory).where(GoogleProductCategory.id == int(words[0]))
    else:
        tsquery = func.to_tsquery(
            literal_column("'english'::regconfig"), " & ".join(f"{word}:*" for word in words)
        )
        vector = GoogleProductCategory.search_vector
        statement = (
            select(GoogleProductCategory)
            .where(vector.op("@@")(tsquery))
            .order_by(
                func.ts_rank(vector, tsquery).desc(),
                GoogleProductCategory.level,
                GoogleProductCategory.id,
            )
        )
    rows = await session.scalars(statement.limit(limit))
    return [_category(row) for row in rows.all()]


async def get_google_category(session: AsyncSession, category_id: int) -> GoogleCategory | None:
    row = await session.get(GoogleProductCategory, category_id)
    return _category(row) if row else None


@dataclass(frozen=True, slots=True)
class LoadedTaxonomy:
    """The suggestion index and the set of known ids, for the taxonomy now in the table."""

    index: TaxonomyIndex
    known_ids: frozenset[int]


class _TaxonomyCache:
    """One index per process, rebuilt when the table's size or load time changes."""

    def __init__(self) -> None:
        self._fingerprint: tuple[int, datetime | None] | None = None
        self._loaded: LoadedTaxonomy | None = None
        self._lock = asyncio.Lock()

    async def get(self, session: AsyncSession) -> LoadedTaxonomy | None:
        count, loaded_at = (
            await session.execute(select(func.count(), func.max(GoogleProductCategory.loaded_at)))
        ).one()
        fingerprint = (int(count), loaded_at)
        if count == 0:
            return None
        async with self._lock:
            if fingerprint != self._fingerprint or self._loaded is None:
                rows = await session.scalars(
                    select(GoogleProductCategory).order_by(GoogleProductCategory.id)
                )
                categories = [_category(row) for row in rows]
                # About a second of sparse-matrix work: keep it off the event loop.
                index = await asyncio.to_thread(TaxonomyIndex, categories)
                self._loaded = LoadedTaxonomy(index, frozenset(c.id for c in categories))
                self._fingerprint = fingerprint
            return self._loaded


_cache = _TaxonomyCache()


async def loaded_taxonomy(session: AsyncSession) -> LoadedTaxonomy | None:
    """The loaded taxonomy's suggestion index, or None when no taxonomy has been loaded."""
    return await _cache.get(session)


async def google_category_paths(
    session: AsyncSession, category_ids: Iterable[int]
) -> dict[int, str]:
    """The full paths of these Google categories, by id, in one query (unknown ids absent)."""
    wanted = sorted(set(category_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(GoogleProductCategory.id, GoogleProductCategory.path).where(
            GoogleProductCategory.id.in_(wanted)
        )
    )
    return {int(id_): str(path) for id_, path in rows}
