"""Product listing and search: filters, typo-tolerant full text, stable cursors, facets.

Why full text goes through `catalog_text_search()`: under row-level security PostgreSQL
only uses an index for leakproof operators, and `@@` is not one, so a plain query on
`product` scans every row. That SQL function (see the catalog migration) runs as a
reader role whose policy lets the GIN index work, and returns (product_id, rank) only
for the transaction's own tenant (`app.tenant_id`); products themselves are then read
under RLS as usual. Likewise prices are compared as the bigint `price_key`.

Full text runs on the weighted `search_vector` (name A, brand B, category C, description
D). Each query word that is not in the tenant's vocabulary (`catalog_term`) is widened
with its nearest vocabulary words by trigram distance (a GiST KNN lookup), kept only
when they are one or two edits away, so `chiar` also searches `chair` and `sofe` `sofa`.
The last word is also matched as a prefix for search-as-you-type.
"""

from __future__ import annotations

import math
import re
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
    cast,
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
        low = math.ceil(query.min_price * PRICE_KEY_SCALE)
        conditions.append(Product.price_key >= literal(low, BigInteger))
    if query.max_price is not None:
        high = math.floor(query.max_price * PRICE_KEY_SCALE)
        conditions.append(Product.price_key <= literal(high, BigInteger))
    if query.available is not None:
        conditions.append(Product.available.is_(query.available))
    return conditions


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
    column: Any = {"price_asc": Product.price_key, "price_desc": Product.price_key}.get(
        sort, Product.created_at
    )
    ascending = sort == "price_asc"
    if after is not None:
        key = literal(after[0], BigInteger if column is Product.price_key else None)
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
        return product.price_key
    return product.created_at.isoformat()


def text_matches(groups: list[list[str]]) -> Any:
    """`catalog_text_search(query)` as a table of (product_id, rank) for the tenant."""
    ts_query = func.to_tsquery(literal_column("'english'::regconfig"), tsquery_text(groups))
    return (
        func.catalog_text_search(ts_query)
        .table_valued(column("product_id", Text), column("rank", REAL))
        .alias("matches")
    )


def _select(columns: list[Any], matches: Any) -> Select[Any]:
    statement = select(*columns)
    if matches is not None:
        statement = statement.select_from(matches).join(
            Product, Product.product_id == matches.c.product_id
        )
    return statement


async def list_products(
    session: AsyncSession, tenant_id: uuid.UUID, query: ProductQuery
) -> ProductList:
    """One page of live products matching `query`, with facets when asked for."""
    size = clamp_limit(query.limit)
    groups = await query_words(session, tenant_id, query.q) if query.q else []
    matches = text_matches(groups) if groups else None
    rank = matches.c.rank if matches is not None else None
    sort: Sort = query.sort or ("relevance" if groups else "newest")
    if sort == "relevance" and rank is None:
        sort = "newest"
    after = read_cursor(query.cursor, lambda c: _position(sort, c))
    conditions = await _filters(session, tenant_id, query)
    if conditions is None:
        return ProductList(data=[], next_cursor=None, facets=_empty_facets(query))
    columns: list[Any] = [Product] if rank is None else [Product, rank]
    statement = _ordered(_select(columns, matches).where(*conditions), sort, rank, after)
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
    matches: Any,
) -> Facets:
    """Counts per category path and per brand; each ignores its own filter, so a shopper
    who picked one brand still sees how many products the other brands have."""
    counted: dict[str, list[FacetCount]] = {}
    for name, facet in (("category", Product.category_path), ("brand", Product.brand)):
        conditions = await _filters(session, tenant_id, query, skip=name)
        if conditions is None:
            counted[name] = []
            continue
        count = func.count().label("n")
        rows = await session.execute(
            _select([facet, count], matches)
            .where(*conditions, facet.is_not(None))
            .group_by(facet)
            .order_by(count.desc(), facet)
            .limit(FACET_SIZE)
        )
        counted[name] = [FacetCount(value=value, count=n) for value, n in rows]
    return Facets(category=counted["category"], brand=counted["brand"])
