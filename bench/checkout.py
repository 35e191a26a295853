"""Checkout throughput and latency against the API, with the no-oversell invariant.

    .venv/bin/python bench/checkout.py [--checkouts 3000] [--concurrency 32] [--workers 2]
        [--json out.json]

`mercato serve --workers N` (one process by default) on a scratch database (local
PostgreSQL, local Redis), a tenant with products stocked at two locations and one scarce
"hot" product. Carts are prepared directly in the database (setup, not measured), then
`--concurrency` keep-alive clients each run `POST {T}/checkout` (manual provider, a fresh
Idempotency-Key) back to back until every cart is checked out. Before the measured run the
database is analyzed, as autovacuum would have done. About one cart in five also
wants the hot product, so its stock runs out mid-run and those checkouts must answer 409
`insufficient-stock`. "API CPU per checkout" counts every API process.

In-run baseline: the same reservation SQL (lock the sorted stock rows `FOR UPDATE`, move
`reserved`, append the ledger rows, commit) run directly on psycopg connections with the
same concurrency: the cost of the invariant alone, without HTTP, auth, cart pricing or the
order rows. The ratio API / baseline says what the rest of checkout costs.

Afterwards it asserts the invariant: the hot product's reservations never exceed its
stock, and the ledger sums to every stock row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from ingest_server import DEFAULT_REDIS, DEFAULT_SERVER, Target, running_api
from ingest_single import _read_response, _request
from results import add_json_option
from rich.console import Console
from rich.table import Table

BENCH = {
    "order": 60,
    "quick": ["--checkouts", "3000", "--concurrency", "32", "--workers", "2"],
    "full": ["--checkouts", "20000", "--concurrency", "48", "--workers", "2"],
}
TARGET_PER_S = 250.0
PRODUCTS = 200
HOT = "HOT-1"
HOT_UNITS = 150
LOCATIONS = ("WH-1", "ST-1")


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentiles(self) -> tuple[float, float, float]:
        p50, p95, p99 = np.percentile(np.asarray(self.latencies_ms), [50, 95, 99])
        return float(p50), float(p95), float(p99)


def _product_id(n: int) -> str:
    return f"SKU-{n:05d}"


def _setup_catalog(target: Target) -> None:
    """Products, locations and stock through SQL as the owner (setup is not measured)."""
    with psycopg.connect(target.owner_dsn, autocommit=False) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (target.tenant_id,))
        for code in LOCATIONS:
            conn.execute(
                "INSERT INTO location (tenant_id, code, name, kind, status) "
                "VALUES (%s, %s, %s, 'store', 'active')",
                (target.tenant_id, code, f"Location {code}"),
            )
        ids = [_product_id(n) for n in range(PRODUCTS)] + [HOT]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO product (tenant_id, product_id, name, price, currency, available, "
                "additional_image_urls, variant_attributes, attributes) "
                "VALUES (%s, %s, %s, %s, 'EUR', true, '{}', '{}', '{}')",
                [(target.tenant_id, pid, f"Product {pid}", "19.99") for pid in ids],
            )
            rows = [
                (target.tenant_id, pid, code, HOT_UNITS if pid == HOT else 1_000_000)
                for pid in ids
                for code in LOCATIONS
                if pid != HOT or code == "WH-1"
            ]
            cur.executemany(
                "INSERT INTO stock_level (tenant_id, product_id, location_code, on_hand, "
                "reserved) VALUES (%s, %s, %s, %s, 0)",
                rows,
            )
            cur.executemany(
                "INSERT INTO stock_movement (tenant_id, id, product_id, location_code, kind, "
                "on_hand_delta, reserved_delta, actor) "
                "VALUES (%s, %s, %s, %s, 'receipt', %s, 0, 'bench')",
                [(t, uuid.uuid4(), p, c, n) for t, p, c, n in rows],
            )
        conn.commit()


def _carts(target: Target, count: int, rng: random.Random) -> list[str]:
    """`count` carts of one or two products; one in five also wants the hot product."""
    carts = [str(uuid.uuid4()) for _ in range(count)]
    items = []
    for cart in carts:
        for pid in rng.sample(range(PRODUCTS), rng.choice((1, 2))):
            items.append((target.tenant_id, cart, _product_id(pid), rng.randint(1, 3)))
        if rng.random() < 0.2:
            items.append((target.tenant_id, cart, HOT, 1))
    with psycopg.connect(target.owner_dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO cart (tenant_id, id, status, currency) VALUES (%s, %s, 'active', 'EUR')",
            [(target.tenant_id, cart) for cart in carts],
        )
        cur.executemany(
            "INSERT INTO cart_item (tenant_id, cart_id, product_id, quantity) "
            "VALUES (%s, %s, %s, %s)",
            items,
        )
    return carts


def _analyze(target: Target) -> None:
    """Statistics on the tables the setup and the warm-up filled, as autovacuum keeps them
    on a live database (a server run without autovacuum has none): without them the
    planner sees empty tables, and the foreign-key checks of every order insert scan all of
    the tenant's orders through `ix_sales_order_status` instead of finding one by its key."""
    with psycopg.connect(target.owner_dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")


def checkout_request(target: Target, cart: str) -> bytes:
    """`POST {T}/checkout` of `cart` (manual payment) with a fresh Idempotency-Key."""
    body = json.dumps(
        {"cart_id": cart, "email": "bench@shop.example", "payment_provider": "manual"}
    ).encode()
    headers = {
        "X-API-Key": target.key,
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    return _request("POST", f"/api/v1/tenants/{target.tenant_id}/checkout", headers, body)


async def _checkouts(target: Target, carts: list[str], concurrency: int) -> Run:
    """Closed loop: each client sends its next checkout when the last one answered."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for cart in carts:
        queue.put_nowait(checkout_request(target, cart))
    run = Run()
    loop = asyncio.get_running_loop()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        try:
            while not queue.empty():
                raw = queue.get_nowait()
                started = loop.time()
                writer.write(raw)
                status = await _read_response(reader)
                run.latencies_ms.append((loop.time() - started) * 1000)
                run.statuses[status] = run.statuses.get(status, 0) + 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - began
    return run


RESERVE_LOCK = (
    "SELECT product_id, location_code, on_hand, reserved FROM stock_level "
    "WHERE tenant_id = %s AND product_id = ANY(%s) ORDER BY product_id, location_code "
    "FOR UPDATE"
)
RESERVE_APPLY = (
    "WITH v AS (SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::int[]) "
    "AS v(id, product_id, location_code, quantity)), "
    "u AS (UPDATE stock_level s SET reserved = s.reserved + v.quantity FROM v "
    "WHERE s.tenant_id = %s AND s.product_id = v.product_id "
    "AND s.location_code = v.location_code RETURNING 1) "
    "INSERT INTO stock_movement (tenant_id, id, product_id, location_code, kind, "
    "on_hand_delta, reserved_delta, actor) SELECT %s, v.id, v.product_id, v.location_code, "
    "'reservation', 0, v.quantity, 'bench' FROM v"
)


async def _baseline(target: Target, count: int, concurrency: int, rng: random.Random) -> Run:
    """The reservation transaction alone, on plain connections (ample stock, no hot item)."""
    wanted = [
        {_product_id(p): 1 for p in rng.sample(range(PRODUCTS), rng.choice((1, 2)))}
        for _ in range(count)
    ]
    run = Run()
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        async with await psycopg.AsyncConnection.connect(target.owner_dsn) as conn:
            while wanted:
                cart = wanted.pop()
                started = loop.time()
                async with conn.transaction():
                    await conn.execute(
                        "SELECT set_config('app.tenant_id', %s, true)", (target.tenant_id,)
                    )
                    rows = await (
                        await conn.execute(RESERVE_LOCK, (target.tenant_id, sorted(cart)))
                    ).fetchall()
                    chosen = {r[0]: r[1] for r in rows}
                    pids = sorted(cart)
                    await conn.execute(
                        RESERVE_APPLY,
                        (
                            [uuid.uuid4() for _ in pids],
                            pids,
                            [chosen[p] for p in pids],
                            [cart[p] for p in pids],
                            target.tenant_id,
                            target.tenant_id,
                        ),
                    )
                run.latencies_ms.append((loop.time() - started) * 1000)
                run.statuses[200] = run.statuses.get(200, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - began
    return run


def _invariant(target: Target) -> tuple[int, int, int]:
    """(hot on_hand, hot reserved, stock rows whose ledger disagrees); asserts no oversell."""
    with psycopg.connect(target.owner_dsn) as conn:
        on_hand, reserved = conn.execute(
            "SELECT on_hand, reserved FROM stock_level WHERE tenant_id = %s AND product_id = %s",
            (target.tenant_id, HOT),
        ).fetchone() or (0, 0)
        sold = conn.execute(
            "SELECT coalesce(sum(i.quantity), 0) FROM order_item i JOIN sales_order o "
            "ON o.tenant_id = i.tenant_id AND o.id = i.order_id "
            "WHERE i.tenant_id = %s AND i.product_id = %s AND o.status = 'pending'",
            (target.tenant_id, HOT),
        ).fetchone()
        drift = conn.execute(
            "SELECT count(*) FROM stock_level s LEFT JOIN LATERAL (SELECT "
            "coalesce(sum(on_hand_delta), 0) AS h, coalesce(sum(reserved_delta), 0) AS r "
            "FROM stock_movement m WHERE m.tenant_id = s.tenant_id AND m.product_id = "
            "s.product_id AND m.location_code = s.location_code) l ON true "
            "WHERE s.tenant_id = %s AND (s.on_hand <> l.h OR s.reserved <> l.r)",
            (target.tenant_id,),
        ).fetchone()
    assert reserved <= on_hand, f"oversold: {reserved} reserved of {on_hand}"
    assert sold is not None
    assert int(sold[0]) == reserved, f"{sold[0]} units in pending orders, {reserved} reserved"
    return int(on_hand), int(reserved), int(drift[0] if drift else -1)


def _figure(
    name: str,
    value: float,
    unit: str,
    *,
    baseline: Run | None = None,
    run: Run | None = None,
    target: str | None = None,
    met: bool | None = None,
) -> dict[str, Any]:
    p50, p95, p99 = run.percentiles() if run else (None, None, None)
    base = baseline.per_second if baseline else None
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline_name": "reservation SQL on plain connections" if baseline else None,
        "baseline_value": None if base is None else round(base, 3),
        "ratio": None if not base else round(value / base, 4),
        "target": target,
        "met": met,
        "p50": p50,
        "p95": p95,
        "p99": p99,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkouts", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="API processes")
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--seed", type=int, default=7)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()
    rng = random.Random(args.seed)
    async with running_api(args.server, args.redis, workers=args.workers) as target:
        await asyncio.to_thread(_setup_catalog, target)
        warm_carts = await asyncio.to_thread(_carts, target, 200, rng)
        await _checkouts(target, warm_carts, 8)
        carts = await asyncio.to_thread(_carts, target, args.checkouts, rng)
        await asyncio.to_thread(_analyze, target)
        cpu = target.cpu_seconds()
        api = await _checkouts(target, carts, args.concurrency)
        cpu_ms = (target.cpu_seconds() - cpu) * 1000 / max(1, len(api.latencies_ms))
        baseline = await _baseline(target, args.checkouts, args.concurrency, rng)
        hot_on_hand, hot_reserved, drift = await asyncio.to_thread(_invariant, target)
        load = os.getloadavg()
    ok = api.statuses.get(201, 0)
    table = Table(
        title=f"{args.checkouts:,} checkouts, {args.concurrency} clients, "
        f"{args.workers} API process{'es' if args.workers > 1 else ''}"
    )
    for column in ("path", "per s", "p50 ms", "p95 ms", "p99 ms", "statuses"):
        table.add_column(column, justify="right")
    for label, run in (("reservation SQL (baseline)", baseline), ("POST {T}/checkout", api)):
        p50, p95, p99 = run.percentiles()
        table.add_row(
            label,
            f"{run.per_second:.1f}",
            f"{p50:.1f}",
            f"{p95:.1f}",
            f"{p99:.1f}",
            str(run.statuses),
        )
    console.print(table)
    console.print(
        f"ratio API / baseline: {api.per_second / baseline.per_second:.3f}; API CPU "
        f"{cpu_ms:.2f} ms per checkout; hot product {hot_reserved}/{hot_on_hand} reserved, "
        f"{drift} stock rows off their ledger; load {load[0]:.2f} on {os.cpu_count()} cores"
    )
    unexpected = {s: n for s, n in api.statuses.items() if s not in (201, 409)}
    met = api.per_second >= TARGET_PER_S and not unexpected and drift == 0
    console.print(
        f"target: >= {TARGET_PER_S:.0f} checkouts/s, zero oversell: {'met' if met else 'NOT met'}"
    )
    figures = [
        _figure(
            "checkouts per second",
            api.per_second,
            "1/s",
            baseline=baseline,
            run=api,
            target=f">= {TARGET_PER_S:.0f}/s",
            met=met,
        ),
        _figure("successful checkouts", float(ok), "orders"),
        _figure("API CPU per checkout", cpu_ms, "ms"),
        _figure(
            "hot product units reserved",
            float(hot_reserved),
            "units",
            target=f"<= {hot_on_hand}",
            met=hot_reserved <= hot_on_hand,
        ),
    ]
    if args.json:
        args.json.write_text(json.dumps({"name": "checkout", "figures": figures}, indent=2))
    if unexpected:
        console.print(f"unexpected statuses: {unexpected}")
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
