"""The one write path for product bodies: PUT, PATCH, batch and file imports all end here.

Rows go to PostgreSQL as one JSON document expanded by `jsonb_to_recordset` into a single
`INSERT … ON CONFLICT DO UPDATE`, so a chunk of a thousand products is one round trip and
prices travel as exact decimal strings.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.catalog.categories import ensure_paths
from mercato.modules.catalog.notify import products_changed
from mercato.modules.catalog.schemas import ProductCreate

COLUMNS = (
    ("name", "text"),
    ("description", "text"),
    ("price", "numeric"),
    ("currency", "text"),
    ("sale_price", "numeric"),
    ("brand", "text"),
    ("gtin", "text"),
    ("mpn", "text"),
    ("condition", "text"),
    ("link", "text"),
    ("image_url", "text"),
    ("additional_image_urls", "text[]"),
    ("available", "boolean"),
    ("item_group_id", "text"),
    ("variant_attributes", "jsonb"),
    ("attributes", "jsonb"),
    ("category_id", "uuid"),
    ("category_path", "text"),
)
# The JSON rows carry the category path; its id and canonical spelling come from a join.
_FROM_CATEGORY = {"category_id": "c.id", "category_path": "c.path"}
_RECORD = ", ".join(
    f"{name} {kind}"
    for name, kind in (("product_id", "text"), *COLUMNS, ("category", "text"))
    if name not in _FROM_CATEGORY
)
_NAMES = ", ".join(name for name, _ in COLUMNS)
_DEFAULTED = {"additional_image_urls": "'{}'", "variant_attributes": "'{}'", "attributes": "'{}'"}
_SELECTED = ", ".join(
    _FROM_CATEGORY.get(name)
    or (f"coalesce(i.{name}, {_DEFAULTED[name]})" if name in _DEFAULTED else f"i.{name}")
    for name, _ in COLUMNS
)
_UPDATES = ", ".join(f"{name} = EXCLUDED.{name}" for name, _ in COLUMNS)

_CHANGED = (
    f"(product.{', product.'.join(name for name, _ in COLUMNS)}) IS DISTINCT FROM "
    f"(EXCLUDED.{', EXCLUDED.'.join(name for name, _ in COLUMNS)})"
)

# `prior` reads the snapshot before the insert, so it tells replaced rows from new (or
# revived soft-deleted) ones; MATERIALIZED keeps it a step of its own that Citus runs
# before the insert (inlined into the final SELECT, it would run after it there). A row
# identical to the stored one is not rewritten at all: re-importing a full feed where
# little changed costs reads, not writes.
# `updated_at` takes the proposed row's default (now()): Citus runs DO UPDATE SET on the
# shard and so refuses functions that are not IMMUTABLE there.
# Composed from the COLUMNS constant only, never from input.
UPSERT_SQL = text(
    f"""
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({_RECORD})
    ),
    prior AS MATERIALIZED (
        SELECT p.product_id FROM product p JOIN input i ON i.product_id = p.product_id
        WHERE p.tenant_id = :tenant_id AND p.deleted_at IS NULL
    ),
    written AS (
        INSERT INTO product (tenant_id, product_id, {_NAMES})
        SELECT :tenant_id, i.product_id, {_SELECTED} FROM input i
        LEFT JOIN category c ON c.tenant_id = :tenant_id AND lower(c.path) = lower(i.category)
        ON CONFLICT (tenant_id, product_id) DO UPDATE
        SET {_UPDATES}, updated_at = EXCLUDED.updated_at, deleted_at = NULL
        WHERE product.deleted_at IS NOT NULL OR {_CHANGED}
        RETURNING product_id
    )
    SELECT i.product_id, pr.product_id IS NOT NULL AS existed,
           w.product_id IS NOT NULL AS written
    FROM input i
    LEFT JOIN prior pr ON pr.product_id = i.product_id
    LEFT JOIN written w ON w.product_id = i.product_id
    """  # noqa: S608
)


@dataclass
class UpsertOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def replaced(self) -> int:
        """Existing products the write covered, whether or not anything differed."""
        return len(self.updated) + len(self.unchanged)


@dataclass(frozen=True)
class PreparedRows:
    """Validated products encoded for `UPSERT_SQL`: pure CPU work, safe in a worker thread."""

    document: str
    categories: frozenset[str]
    count: int


def prepare_rows(items: Sequence[ProductCreate]) -> PreparedRows:
    # pydantic's own JSON encoder (Rust): decimals become exact strings, None null.
    document = "[" + ",".join(item.model_dump_json() for item in items) + "]"
    categories = frozenset(item.category for item in items if item.category)
    return PreparedRows(document, categories, len(items))


async def upsert_prepared(
    session: AsyncSession, tenant_id: uuid.UUID, prepared: PreparedRows
) -> UpsertOutcome:
    """Create or replace the prepared products (product_ids unique within them).

    Creates missing categories, emits `product.created`/`product.updated` and drops cached
    snapshots after commit. A database error leaves the caller's transaction failed.
    """
    outcome = UpsertOutcome()
    if not prepared.count:
        return outcome
    await ensure_paths(session, tenant_id, prepared.categories)
    result = await session.execute(UPSERT_SQL, {"tenant_id": tenant_id, "rows": prepared.document})
    for product_id, existed, written in result:
        if not existed:
            outcome.created.append(product_id)
        else:
            (outcome.updated if written else outcome.unchanged).append(product_id)
    await products_changed(session, tenant_id, created=outcome.created, updated=outcome.updated)
    return outcome


async def upsert_products(
    session: AsyncSession, tenant_id: uuid.UUID, items: Sequence[ProductCreate]
) -> UpsertOutcome:
    """`upsert_prepared` for products at hand (each with a unique `product_id`)."""
    return await upsert_prepared(session, tenant_id, prepare_rows(items))
