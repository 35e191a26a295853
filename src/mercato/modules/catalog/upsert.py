"""The one write path for product bodies: PUT, PATCH, batch and file imports all end here.

Rows go to PostgreSQL as one JSON document expanded by `jsonb_to_recordset` into a single
`INSERT … ON CONFLICT DO UPDATE`, so a chunk of a thousand products is one round trip and
prices travel as exact decimal strings.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.catalog.categories import CategoryRef, ensure_paths
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
_RECORD = ", ".join(f"{name} {kind}" for name, kind in (("product_id", "text"), *COLUMNS))
_NAMES = ", ".join(name for name, _ in COLUMNS)
_DEFAULTED = {"additional_image_urls": "'{}'", "variant_attributes": "'{}'", "attributes": "'{}'"}
_SELECTED = ", ".join(
    f"coalesce(i.{name}, {_DEFAULTED[name]})" if name in _DEFAULTED else f"i.{name}"
    for name, _ in COLUMNS
)
_UPDATES = ", ".join(f"{name} = EXCLUDED.{name}" for name, _ in COLUMNS)

# `prior` reads the snapshot before the insert, so it tells replaced rows from new (or
# revived soft-deleted) ones.
UPSERT_SQL = text(
    f"""
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({_RECORD})
    ),
    prior AS (
        SELECT p.product_id FROM product p JOIN input i ON i.product_id = p.product_id
        WHERE p.tenant_id = :tenant_id AND p.deleted_at IS NULL
    ),
    written AS (
        INSERT INTO product (tenant_id, product_id, {_NAMES})
        SELECT :tenant_id, i.product_id, {_SELECTED} FROM input i
        ON CONFLICT (tenant_id, product_id) DO UPDATE
        SET {_UPDATES}, updated_at = now(), deleted_at = NULL
        RETURNING product_id
    )
    SELECT w.product_id, pr.product_id IS NOT NULL AS existed
    FROM written w LEFT JOIN prior pr ON pr.product_id = w.product_id
    """  # noqa: S608
)


@dataclass
class UpsertOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def _row(item: ProductCreate, categories: dict[str, CategoryRef]) -> dict[str, Any]:
    row = item.model_dump(exclude={"category"})
    row["price"] = str(item.price)
    row["sale_price"] = None if item.sale_price is None else str(item.sale_price)
    ref = categories.get(item.category.lower()) if item.category else None
    row["category_id"] = str(ref.id) if ref else None
    row["category_path"] = ref.path if ref else None
    return row


async def upsert_products(
    session: AsyncSession, tenant_id: uuid.UUID, items: Sequence[ProductCreate]
) -> UpsertOutcome:
    """Create or replace products (each with a `product_id`, unique within `items`).

    Creates missing categories, emits `product.created`/`product.updated` and drops cached
    snapshots after commit. A database error leaves the caller's transaction failed.
    """
    outcome = UpsertOutcome()
    if not items:
        return outcome
    categories = await ensure_paths(session, tenant_id, {i.category for i in items if i.category})
    rows = [_row(item, categories) for item in items]
    result = await session.execute(
        UPSERT_SQL, {"tenant_id": tenant_id, "rows": json.dumps(rows, default=str)}
    )
    for product_id, existed in result:
        (outcome.updated if existed else outcome.created).append(product_id)
    await products_changed(session, tenant_id, created=outcome.created, updated=outcome.updated)
    return outcome
