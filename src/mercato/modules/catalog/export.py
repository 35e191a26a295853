"""The catalog as CSV: streamed out (`GET {T}/products/export.csv`) and read back in.

Columns are the product body's fields; lists and objects are JSON in their cell, so an
export re-imports unchanged with `mercato import products`.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sqlalchemy import select

from mercato.kernel.db import Database
from mercato.kernel.spreadsheet import SpreadsheetWriter, text_from_cell
from mercato.modules.catalog.models import Product
from mercato.modules.catalog.products import product_read

CSV_COLUMNS = (
    "product_id",
    "name",
    "description",
    "price",
    "currency",
    "sale_price",
    "category",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "link",
    "image_url",
    "additional_image_urls",
    "available",
    "item_group_id",
    "variant_attributes",
    "attributes",
    "created_at",
    "updated_at",
)
JSON_COLUMNS = ("additional_image_urls", "variant_attributes", "attributes")
READ_ONLY_COLUMNS = ("created_at", "updated_at", "current_price", "category_id")
EXPORT_BATCH = 1_000


def csv_cells(document: Mapping[str, Any]) -> list[str]:
    cells = []
    for column in CSV_COLUMNS:
        value = document.get(column)
        if column in JSON_COLUMNS:
            cells.append(json.dumps(value or ([] if column == "additional_image_urls" else {})))
        elif value is None:
            cells.append("")
        elif isinstance(value, bool):
            cells.append("true" if value else "false")
        else:
            cells.append(str(value))
    return cells


def _lines(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    SpreadsheetWriter(buffer).writerows(rows)
    return buffer.getvalue()


async def export_csv(database: Database, tenant_id: uuid.UUID) -> AsyncIterator[str]:
    """Live products in product_id order, a thousand rows per chunk, in its own transaction
    (the request's session is closed before a streamed body is sent)."""
    yield _lines([list(CSV_COLUMNS)])
    async with database.read_session(tenant_id) as session:
        result = await session.stream_scalars(
            select(Product)
            .where(Product.tenant_id == tenant_id, Product.deleted_at.is_(None))
            .order_by(Product.product_id)
            .execution_options(yield_per=EXPORT_BATCH)
        )
        async for partition in result.partitions(EXPORT_BATCH):
            yield _lines(
                [csv_cells(product_read(product).model_dump(mode="json")) for product in partition]
            )


def row_from_csv(record: Mapping[str, str | None]) -> dict[str, Any]:
    """A CSV record as a product body: empty cells are absent, JSON cells decoded."""
    row: dict[str, Any] = {}
    for column, cell in record.items():
        if column is None or column in READ_ONLY_COLUMNS or cell is None or cell == "":
            continue
        if column in JSON_COLUMNS:
            try:
                row[column] = json.loads(cell)
            except ValueError:
                row[column] = cell.split() if column == "additional_image_urls" else cell
        elif column == "available":
            row[column] = cell.strip().lower() in ("true", "1", "yes", "in_stock", "y")
        else:
            row[column] = text_from_cell(cell)
    return row
