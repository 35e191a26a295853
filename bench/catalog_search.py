"""Catalog search latency on a tenant of 20,000 products (the budget's size), then the same
tenant grown to 100,000, beside 50 other tenants' products, next to a plain ILIKE scan of
the same tenant at each size.

    .venv/bin/python bench/catalog_search.py [--products 20000 100000] [--others 50]
                                             [--other-products 2000] [--rounds 20]

Loads the data through the catalog's own upsert path, lets PostgreSQL settle (VACUUM
ANALYZE, as autovacuum would), then times `list_products` — the service behind
`GET {T}/products?q=` — for a mix of exact, typo, prefix, multi-word and filtered
searches, each in its own tenant-scoped transaction like a request. The baseline runs
`name ILIKE '%word%'` over the same tenant for the same words. Each `--products` size
adds products to the same tenant and is measured in turn; the first size carries the
budget (p95 < 20 ms at 20,000 products).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from decimal import Decimal

import psycopg
from catalog_setup import create_tenant, product_rows, scratch_database
from results import Figure, add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from mercato.kernel.db import Database, libpq_url
from mercato.modules.catalog.schemas import ProductCreate
from mercato.modules.catalog.search import ProductQuery, list_products
from mercato.modules.catalog.upsert import upsert_products
from mercato.settings import get_settings

BENCH = {
    "order": 40,
    "quick": [
        "--products",
        "20000",
        "--others",
        "10",
        "--other-products",
        "1000",
        "--rounds",
        "10",
    ],
    "full": ["--products", "20000", "100000", "--others", "50", "--other-products", "2000"],
}
TARGET_P95_MS = 20.0
QUERIES = [
    ProductQuery(q="sofa"),
    ProductQuery(q="chiar"),
    ProductQuery(q="sofe"),
    ProductQuery(q="lmap"),
    ProductQuery(q="coffee machine"),
    ProductQuery(q="espreso"),
    ProductQuery(q="oak table"),
    ProductQuery(q="vel"),
    ProductQuery(q="lamp", max_price=Decimal("100")),
    ProductQuery(q="chair", sort="price_asc"),
    ProductQuery(q="sofa", category="Furniture"),
    ProductQuery(q="speaker", available=True),
]
ILIKE = text(
    "SELECT * FROM product WHERE tenant_id = :tenant_id AND deleted_at IS NULL "
    "AND name ILIKE :pattern ORDER BY product_id LIMIT 50"
)
LOAD_CHUNK = 5_000


async def _load(database: Database, tenant_id: uuid.UUID, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), LOAD_CHUNK):
        items = [ProductCreate.model_validate(row) for row in rows[start : start + LOAD_CHUNK]]
        async with database.tenant_session(tenant_id) as session:
            await upsert_products(session, tenant_id, items)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _label(query: ProductQuery) -> str:
    extras = [
        f"{name}={getattr(query, name)}"
        for name in ("category", "max_price", "available", "sort")
        if getattr(query, name) is not None
    ]
    return " ".join([repr(query.q), *extras])


async def _time_search(
    database: Database, tenant_id: uuid.UUID, rounds: int
) -> tuple[dict[str, list[float]], set[str]]:
    samples: dict[str, list[float]] = {_label(query): [] for query in QUERIES}
    empty: set[str] = set()
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            async with database.tenant_session(tenant_id) as session:
                page = await list_products(session, tenant_id, query)
            samples[_label(query)].append((time.perf_counter() - started) * 1000)
            if not page.data:
                empty.add(_label(query))
    return samples, empty


async def _time_ilike(database: Database, tenant_id: uuid.UUID, rounds: int) -> list[float]:
    samples: list[float] = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            async with database.tenant_session(tenant_id) as session:
                await session.execute(ILIKE, {"tenant_id": tenant_id, "pattern": f"%{query.q}%"})
            samples.append((time.perf_counter() - started) * 1000)
    return samples


Timings = tuple[int, dict[str, list[float]], list[float]]  # size, search per query, ILIKE


async def _run(args: argparse.Namespace, dsn: str) -> list[Timings]:
    database = Database(get_settings())
    try:
        main_tenant = uuid.UUID(create_tenant(dsn, "bench-main"))
        for n in range(args.others):
            other = uuid.UUID(create_tenant(dsn, f"bench-other-{n}"))
            rows = product_rows(args.other_products, seed=100 + n, prefix=f"o{n}-")
            await _load(database, other, rows)
        catalog = product_rows(max(args.products), seed=11)
        loaded, timings = 0, []
        for size in sorted(args.products):
            await _load(database, main_tenant, catalog[loaded:size])
            loaded = size
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE product")
                conn.execute("VACUUM ANALYZE catalog_term")
            await _time_search(database, main_tenant, 2)  # warm caches
            search, empty = await _time_search(database, main_tenant, args.rounds)
            assert not empty, f"searches that found nothing at {size:,}: {sorted(empty)}"
            ilike = await _time_ilike(database, main_tenant, args.rounds)
            timings.append((size, search, ilike))
        return timings
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--others", type=int, default=50)
    parser.add_argument("--other-products", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=20)
    add_json_option(parser)
    args = parser.parse_args()
    with scratch_database() as url:
        from mercato.kernel.redis import init_redis

        init_redis(get_settings())
        timings = asyncio.run(_run(args, libpq_url(url)))
    console = Console()
    figures = []
    for number, (size, per_query, ilike) in enumerate(timings):
        _print(console, args, size, per_query, ilike)
        figures += _figures(size, per_query, ilike, budgeted=number == 0)
    console.print(f"Load average at the end of the run: {os.getloadavg()[0]:.2f}")
    write_json(args.json, figures)


def _print(
    console: Console,
    args: argparse.Namespace,
    size: int,
    per_query: dict[str, list[float]],
    ilike: list[float],
) -> None:
    others = args.others * args.other_products
    search = [ms for samples in per_query.values() for ms in samples]
    table = Table(
        title=f"Catalog search: {size:,} products, {others:,} of {args.others} "
        f"other tenants, {len(search)} searches"
    )
    for name in ("path", "p50 ms", "p95 ms", "p99 ms", "mean ms", "p95 vs ILIKE"):
        table.add_column(name, justify="right" if name != "path" else "left")
    ilike_p95 = _percentile(ilike, 0.95)
    for label, samples in (
        ("search (FTS + typo fix + filters)", search),
        ("plain ILIKE scan (baseline)", ilike),
    ):
        p95 = _percentile(samples, 0.95)
        table.add_row(
            label,
            f"{_percentile(samples, 0.5):.1f}",
            f"{p95:.1f}",
            f"{_percentile(samples, 0.99):.1f}",
            f"{statistics.fmean(samples):.1f}",
            f"{p95 / ilike_p95:.2f}x",
        )
    console.print(table)
    breakdown = Table(title=f"search p50 / p95 by query (ms), {size:,} products")
    for name in ("query", "p50", "p95"):
        breakdown.add_column(name, justify="right" if name != "query" else "left")
    for label, samples in per_query.items():
        breakdown.add_row(
            label, f"{_percentile(samples, 0.5):.1f}", f"{_percentile(samples, 0.95):.1f}"
        )
    console.print(breakdown)


def _figures(
    size: int, per_query: dict[str, list[float]], ilike: list[float], *, budgeted: bool
) -> list[Figure]:
    """The overall p95 (with the budget when `budgeted`), then each query's, at one size."""
    search = [ms for samples in per_query.values() for ms in samples]
    baseline = (f"name ILIKE scan p95, {size:,} products", _points(ilike)[1])
    p95 = _percentile(search, 0.95)
    return [
        figure(
            f"search p95, {len(search)} searches on {size:,} products",
            p95,
            "ms",
            baseline=baseline,
            target="p95 < 20 ms" if budgeted else None,
            met=p95 < TARGET_P95_MS if budgeted else None,
            percentiles=_points(search),
        ),
        *(
            figure(
                f"search {label} p95, {size:,} products",
                _percentile(samples, 0.95),
                "ms",
                baseline=baseline,
                percentiles=_points(samples),
            )
            for label, samples in per_query.items()
        ),
    ]


def _points(samples: list[float]) -> tuple[float, float, float]:
    return (_percentile(samples, 0.5), _percentile(samples, 0.95), _percentile(samples, 0.99))


if __name__ == "__main__":
    main()
