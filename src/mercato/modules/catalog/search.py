"""Product listing and search: filters, typo-tolerant full text, stable cursors, facets.

Full text runs on the weighted `search_vector` (name A, brand B, category C, description
D). Each query word that is not in the tenant's vocabulary (`catalog_term`) is widened
with its nearest vocabulary words by trigram distance (a GiST KNN lookup), kept only
when they are one or two edits away, so `chiar` also searches `chair` and `sofe` `sofa`.
The last word is also matched as a prefix for search-as-you-type.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import REAL, ColumnElement, Select, and_, cast, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.modules.catalog.categories import subtree_ids
from mercato.modules.catalog.models import Product
from mercato.modules.catalog.products import product_read
from mercato.modules.catalog.schemas import FacetCount, Facets, ProductList, Sort

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
NEIGHBOURS = 8
FACET_SIZE = 20

NEAREST_TERMS_SQL = text(
    "SELECT w.word, t.term FROM unnest(CAST(:words AS text[])) AS w(word) "
    "CROSS JOIN LATERAL (SELECT term FROM catalog_term WHERE tenant_id = :tenant_id "
    "ORDER BY term <-> w.word LIMIT :neighbours) AS t"
)


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


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: a transposition (`ia` ↔ `ai`) costs one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def tolerated_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


async def query_words(session: AsyncSession, tenant_id: uuid.UUID, q: str) -> list[list[str]]:
    """The query's words, each with the vocabulary words a typo of it may have meant."""
    words = [word.lower() for word in WORD.findall(q)][:MAX_WORDS]
    if not words:
        return []
    fuzzy = [word for word in words if len(word) >= 3 and not word.isdigit()]
    near: dict[str, list[str]] = {}
    if fuzzy:
        rows = await session.execute(
            NEAREST_TERMS_SQL,
            {"words": fuzzy, "tenant_id": tenant_id, "neighbours": NEIGHBOURS},
        )
        for word, term in rows:
            near.setdefault(word, []).append(term)
    groups = []
    for word in words:
        terms = near.get(word, [])
        if word in terms:
            groups.append([word])
            continue
        close = sorted(
            (distance, term)
            for term in terms
            if (distance := edit_distance(word, term)) <= tolerated_edits(word)
        )
        groups.append([word, *[term for _, term in close[:2]]])
    return groups


def tsquery_text(groups: list[list[str]]) -> str:
    """`(chiar:* | chair) & oak` — words are letters and digits only, so this is safe."""
    parts = []
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        alternatives = [f"{group[0]}:*" if last else group[0], *group[1:]]
        parts.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(parts)


async def _filters(
    session: AsyncSession, tenant_id: uuid.UUID, query: ProductQuery, *, skip: str | None = None
) -> list[ColumnElement[bool]] | None:
    """WHERE conditions; None when the filters cannot match anything (unknown category)."""
    conditions: list[ColumnElement[bool]] = [
        Product.tenant_id == tenant_id,
        Product.deleted_at.is_(None),
    ]
    if query.category and skip != "category":
        ids = await subtree_ids(session, tenant_id, query.category)
        if not ids:
            return None
        conditions.append(Product.category_id.in_(ids))
    if query.brand and skip != "brand":
        conditions.append(Product.brand == query.brand)
    if query.min_price is not None:
        conditions.append(Product.current_price >= query.min_price)
    if query.max_price is not None:
        conditions.append(Product.current_price <= query.max_price)
    if query.available is not None:
        conditions.append(Product.available.is_(query.available))
    return conditions


def _position(sort: Sort, cursor: dict[str, Any]) -> tuple[Any, str]:
    if cursor["s"] != sort:
        raise ValueError("the cursor belongs to another sort order")
    key: Any = cursor["k"]
    if sort in ("price_asc", "price_desc"):
        key = Decimal(str(key))
    elif sort == "newest":
        key = datetime.fromisoformat(key)
    else:
        key = float(key)
    return key, str(cursor["id"])


def _ordered(
    statement: Select[Any], sort: Sort, rank: ColumnElement[float] | None, after: Any
) -> Select[Any]:
    pid = Product.product_id
    if sort == "relevance" and rank is not None:
        if after is not None:
            rank_key = cast(literal(after[0]), REAL)
            statement = statement.where(
                or_(rank < rank_key, and_(rank == rank_key, pid > after[1]))
            )
        return statement.order_by(rank.desc(), pid)
    column: Any = {"price_asc": Product.current_price, "price_desc": Product.current_price}.get(
        sort, Product.created_at
    )
    ascending = sort == "price_asc"
    if after is not None:
        key = literal(after[0])
        beyond = (column > key) if ascending else (column < key)
        tie = (pid > after[1]) if ascending else (pid < after[1])
        statement = statement.where(or_(beyond, and_(column == key, tie)))
    if ascending:
        return statement.order_by(column, pid)
    return statement.order_by(column.desc(), pid.desc())


def _cursor_key(sort: Sort, product: Product, rank: float | None) -> Any:
    if sort == "relevance" and rank is not None:
        return rank
    if sort in ("price_asc", "price_desc"):
        return str(product.current_price)
    return product.created_at.isoformat()


async def list_products(
    session: AsyncSession, tenant_id: uuid.UUID, query: ProductQuery
) -> ProductList:
    """One page of live products matching `query`, with facets when asked for."""
    size = clamp_limit(query.limit)
    groups = await query_words(session, tenant_id, query.q) if query.q else []
    ts_query = func.to_tsquery(literal("english").cast(REGCONFIG), tsquery_text(groups))
    matches = Product.search_vector.op("@@")(ts_query) if groups else None
    sort: Sort = query.sort or ("relevance" if groups else "newest")
    if sort == "relevance" and not groups:
        sort = "newest"
    rank = func.ts_rank(Product.search_vector, ts_query) if groups else None
    after = read_cursor(query.cursor, lambda c: _position(sort, c))
    conditions = await _filters(session, tenant_id, query)
    if conditions is None:
        return ProductList(data=[], next_cursor=None, facets=_empty_facets(query))
    if matches is not None:
        conditions.append(matches)
    columns: list[Any] = [Product] if rank is None else [Product, rank.label("rank")]
    statement = _ordered(select(*columns).where(*conditions), sort, rank, after)
    rows = list((await session.execute(statement.limit(size + 1))).all())
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        key = _cursor_key(sort, last[0], last[1] if rank is not None else None)
        next_cursor = encode_cursor({"s": sort, "k": key, "id": last[0].product_id})
        rows = rows[:size]
    facets = await _facets(session, tenant_id, query, matches) if query.facets else None
    return ProductList(
        data=[product_read(row[0]) for row in rows], next_cursor=next_cursor, facets=facets
    )


def _empty_facets(query: ProductQuery) -> Facets | None:
    return Facets(category=[], brand=[]) if query.facets else None


async def _facets(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    query: ProductQuery,
    matches: ColumnElement[bool] | None,
) -> Facets:
    """Counts per category path and per brand; each ignores its own filter, so a shopper
    who picked one brand still sees how many products the other brands have."""
    counted: dict[str, list[FacetCount]] = {}
    for name, column in (("category", Product.category_path), ("brand", Product.brand)):
        conditions = await _filters(session, tenant_id, query, skip=name)
        if conditions is None:
            counted[name] = []
            continue
        if matches is not None:
            conditions.append(matches)
        count = func.count().label("n")
        rows = await session.execute(
            select(column, count)
            .where(*conditions, column.is_not(None))
            .group_by(column)
            .order_by(count.desc(), column)
            .limit(FACET_SIZE)
        )
        counted[name] = [FacetCount(value=value, count=n) for value, n in rows]
    return Facets(category=counted["category"], brand=counted["brand"])
