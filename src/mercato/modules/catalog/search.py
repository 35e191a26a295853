"""Product listing and search: filters, full text (typo-tolerant, see `spelling`), stable
cursors for every sort, facet counts.

Why text search goes through SQL functions: under row-level security PostgreSQL only
uses an index for leakproof operators, and `@@` is not one, so a plain query on
`product` would scan every row. `catalog_search_page()` and `catalog_text_search()` (see
the catalog migration) run as a reader role whose policy lets the GIN index work, and
only ever look at the transaction's own tenant (`app.tenant_id`); the page's products are
then read under RLS as usual. For the same reason prices are compared as the bigint
`price_key`, whose comparisons are leakproof where numeric ones are not.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    REAL,
    BigInteger,
    ColumnElement,
    Select,
    Text,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.modules.catalog.categories import subtree_ids
from mercato.modules.catalog.models import PRICE_KEY_SCALE, Product
from mercato.modules.catalog.products import product_read
from mercato.modules.catalog.schemas import FacetCount, Facets, ProductList, Sort
from mercato.modules.catalog.spelling import query_words, tsquery_text

FACET_SIZE = 20

# The page's ids in order (WITH ORDINALITY), joined to their rows in the same round trip;
# `product` is read under RLS as everywhere else.
SEARCH_PAGE_SQL = text(
    "SELECT product.*, page.rank FROM catalog_search_page("
    "to_tsquery('english'::regconfig, :query), :sort, CAST(:category_ids AS uuid[]), "
    "CAST(:brand AS text), CAST(:min_key AS bigint), CAST(:max_key AS bigint), "
    "CAST(:available AS boolean), :page_size, CAST(:after_key AS text), "
    "CAST(:after_id AS text)) WITH ORDINALITY AS page(product_id, rank, position) "
    "JOIN product ON product.tenant_id = :tenant_id AND product.product_id = page.product_id "
    "ORDER BY page.position"
).columns(*Product.__table__.columns, column("rank", REAL))


@dataclass(frozen=True)
class ProductQuery:
    q: str | None = None
    category: str | None = None
    brand: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    available: bool | None = None
    sort: Sort | None = None
    limit: int | None = None
    cursor: str | None = None
    facets: bool = False


@dataclass(frozen=True)
class Filters:
    """A query's filters, resolved: category subtree ids, integer price bounds."""

    category_ids: list[uuid.UUID] | None
    brand: str | None
    min_key: int | None
    max_key: int | None
    available: bool | None

    def conditions(self, tenant_id: uuid.UUID) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [
            Product.tenant_id == tenant_id,
            Product.deleted_at.is_(None),
        ]
        if self.category_ids is not None:
            conditions.append(Product.category_id.in_(self.category_ids))
        if self.brand is not None:
            conditions.append(Product.brand == self.brand)
        if self.min_key is not None:
            conditions.append(Product.price_key >= literal(self.min_key, BigInteger))
        if self.max_key is not None:
            conditions.append(Product.price_key <= literal(self.max_key, BigInteger))
        if self.available is not None:
            conditions.append(Product.available.is_(self.available))
        return conditions


async def resolve_filters(
    session: AsyncSession, tenant_id: uuid.UUID, query: ProductQuery, *, skip: str | None = None
) -> Filters | None:
    """The query's filters; None when they cannot match anything (unknown category)."""
    category_ids = None
    if query.category and skip != "category":
        category_ids = await subtree_ids(session, tenant_id, query.category)
        if not category_ids:
            return None
    return Filters(
        category_ids=category_ids,
        brand=query.brand if query.brand and skip != "brand" else None,
        min_key=None if query.min_price is None else math.ceil(query.min_price * PRICE_KEY_SCALE),
        max_key=None if query.max_price is None else math.floor(query.max_price * PRICE_KEY_SCALE),
        available=query.available,
    )


def _position(sort: Sort, cursor: dict[str, Any]) -> tuple[Any, str]:
    if cursor["s"] != sort:
        raise ValueError("the cursor belongs to another sort order")
    key: Any = cursor["k"]
    if sort in ("price_asc", "price_desc"):
        key = int(key)
    elif sort == "newest":
        key = datetime.fromisoformat(key)
    else:
        key = float(key)
    return key, str(cursor["id"])


def _ordered(statement: Select[Any], sort: Sort, after: Any) -> Select[Any]:
    pid = Product.product_id
    column_: Any = Product.price_key if sort in ("price_asc", "price_desc") else Product.created_at
    ascending = sort == "price_asc"
    if after is not None:
        key = literal(after[0], BigInteger if column_ is Product.price_key else None)
        beyond = (column_ > key) if ascending else (column_ < key)
        tie = (pid > after[1]) if ascending else (pid < after[1])
        statement = statement.where(or_(beyond, and_(column_ == key, tie)))
    if ascending:
        return statement.order_by(column_, pid)
    return statement.order_by(column_.desc(), pid.desc())


def _cursor_key(sort: Sort, product: Product, rank: float | None) -> Any:
    if sort == "relevance":
        return rank
    if sort in ("price_asc", "price_desc"):
        return product.price_key
    return product.created_at.isoformat()


async def _text_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    groups: list[list[str]],
    filters: Filters,
    sort: Sort,
    after: Any,
    size: int,
) -> list[tuple[Product, float | None]]:
    """One page of a text search: `catalog_search_page` ids with their product rows."""
    after_key = None
    if after is not None:
        after_key = after[0].isoformat() if isinstance(after[0], datetime) else repr(after[0])
    statement = select(Product, column("rank", REAL)).from_statement(SEARCH_PAGE_SQL)
    result = await session.execute(
        statement,
        {
            "tenant_id": tenant_id,
            "query": tsquery_text(groups),
            "sort": sort,
            "category_ids": filters.category_ids,
            "brand": filters.brand,
            "min_key": filters.min_key,
            "max_key": filters.max_key,
            "available": filters.available,
            "page_size": size,
            "after_key": after_key,
            "after_id": after[1] if after is not None else None,
        },
    )
    return [(product, rank if sort == "relevance" else None) for product, rank in result]


async def list_products(
    session: AsyncSession, tenant_id: uuid.UUID, query: ProductQuery
) -> ProductList:
    """One page of live products matching `query`, with facets when asked for."""
    size = clamp_limit(query.limit)
    groups = await query_words(session, tenant_id, query.q) if query.q else []
    sort: Sort = query.sort or ("relevance" if groups else "newest")
    if sort == "relevance" and not groups:
        sort = "newest"
    after = read_cursor(query.cursor, lambda c: _position(sort, c))
    filters = await resolve_filters(session, tenant_id, query)
    if filters is None:
        facets = Facets(category=[], brand=[]) if query.facets else None
        return ProductList(data=[], next_cursor=None, facets=facets)
    rows: list[tuple[Product, float | None]]
    if groups:
        rows = await _text_page(session, tenant_id, groups, filters, sort, after, size + 1)
    else:
        statement = _ordered(select(Product).where(*filters.conditions(tenant_id)), sort, after)
        products = await session.scalars(statement.limit(size + 1))
        rows = [(product, None) for product in products]
    next_cursor = None
    if len(rows) > size:
        last, rank = rows[size - 1]
        key = _cursor_key(sort, last, rank)
        next_cursor = encode_cursor({"s": sort, "k": key, "id": last.product_id})
        rows = rows[:size]
    facets = await _facets(session, tenant_id, query, groups) if query.facets else None
    return ProductList(
        data=[product_read(product) for product, _ in rows], next_cursor=next_cursor, facets=facets
    )


def text_matches(groups: list[list[str]]) -> Any:
    """`catalog_text_search(query)`: every (product_id, rank) of the tenant that matches."""
    ts_query = func.to_tsquery(literal_column("'english'::regconfig"), tsquery_text(groups))
    return (
        func.catalog_text_search(ts_query)
        .table_valued(column("product_id", Text), column("rank", REAL))
        .alias("matches")
    )


async def _facets(
    session: AsyncSession, tenant_id: uuid.UUID, query: ProductQuery, groups: list[list[str]]
) -> Facets:
    """Counts per category path and per brand; each ignores its own filter, so a shopper
    who picked one brand still sees how many products the other brands have."""
    matches = text_matches(groups) if groups else None
    counted: dict[str, list[FacetCount]] = {}
    for name, facet in (("category", Product.category_path), ("brand", Product.brand)):
        filters = await resolve_filters(session, tenant_id, query, skip=name)
        if filters is None:
            counted[name] = []
            continue
        count = func.count().label("n")
        statement = select(facet, count)
        if matches is not None:
            statement = statement.select_from(matches).join(
                Product, Product.product_id == matches.c.product_id
            )
        rows = await session.execute(
            statement.where(*filters.conditions(tenant_id), facet.is_not(None))
            .group_by(facet)
            .order_by(count.desc(), facet)
            .limit(FACET_SIZE)
        )
        counted[name] = [FacetCount(value=value, count=n) for value, n in rows]
    return Facets(category=counted["category"], brand=counted["brand"])
