"""Recommendation serving: p95 latency on cache hits at a fixed request rate and on
cache misses, next to a plain Redis GET round trip measured in the same run; and the
model fit time for the same tenant.

    .venv/bin/python bench/reco_serving.py [--products 100000] [--events 1000000]
        [--rate 500] [--seconds 20] [--server postgresql://postgres@127.0.0.1:5432/postgres]
        [--redis redis://127.0.0.1:6379/0]

Creates a scratch database on the given PostgreSQL server, starts `mercato serve` on a
free port, signs up, creates a tenant and a secret API key over HTTP, puts a synthetic
shop into the catalog and the event store (their services), fits the tenant's model from
the database as the periodic job does, then drives `GET {T}/recommendations` from this
process.
The load generator shares the machine's two cores with the server, so the figures are
an upper bound of what the server alone costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np
import psycopg
from results import Figure, add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from synthetic_shop import synthetic_shop

from mercato.modules.recommendations.event_log import CatalogTable, EventLog

BENCH = {
    "order": 60,
    "quick": ["--products", "10000", "--events", "100000", "--seconds", "8"],
    "full": ["--products", "100000", "--events", "1000000"],
}
TARGETS_MS = {"< 10": 10.0, "< 50": 50.0}
FIT_TARGET_S = 60.0
console = Console()
PASSWORD = "bench-password-" + secrets.token_hex(4)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scratch_database(server: str) -> tuple[str, str]:
    name = f"mercato_bench_{os.getpid()}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    return url, name


def drop_database(server: str, name: str) -> None:
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server(
    env: dict[str, str], port: int, log: Path, workers: int
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mercato.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not become ready")


def create_tenant(base: str) -> tuple[str, str]:
    """Sign up, create a tenant and a secret key over HTTP; returns (tenant id, key)."""
    email = f"bench-{secrets.token_hex(4)}@bench.example"
    with httpx.Client(base_url=base, timeout=10) as http:
        http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": "B"})
        login = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        tenant = http.post("/api/v1/tenants", json={"name": "Bench shop"}, headers=headers)
        tenant_id = tenant.json()["id"]
        key = http.post(
            f"/api/v1/tenants/{tenant_id}/api-keys",
            json={"name": "bench", "kind": "secret", "permission": "read"},
            headers=headers,
        )
        return str(tenant_id), str(key.json()["key"])


async def paced(
    call: Callable[[int], Awaitable[None]], rate: float, seconds: float
) -> tuple[list[float], float]:
    """Start `call(n)` at a fixed rate (open loop, so slow answers do not slow the
    arrivals); returns latencies in ms and the achieved rate."""
    count = int(rate * seconds)
    latencies: list[float] = []

    async def timed(number: int) -> None:
        started = time.perf_counter()
        await call(number)
        latencies.append((time.perf_counter() - started) * 1000.0)

    tasks = []
    begin = time.perf_counter()
    for number in range(count):
        delay = begin + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(timed(number)))
    await asyncio.gather(*tasks)
    return latencies, count / (time.perf_counter() - begin)


class KeepAliveClient:
    """A minimal HTTP/1.1 GET client over a pool of kept-alive connections: far less
    CPU per request than a general-purpose client, so the load generator does not
    starve the server it measures on a two-core machine."""

    def __init__(self, port: int, headers: dict[str, str], size: int) -> None:
        self.port, self.size = port, size
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))

    async def get(self, target: str) -> int:
        reader, writer = await self.idle.get()
        try:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.extra}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            return status
        finally:
            self.idle.put_nowait((reader, writer))

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()


def p(latencies: list[float], q: float) -> float:
    return float(np.percentile(latencies, q))


async def one_at_a_time(call: Callable[[int], Awaitable[None]], count: int) -> list[float]:
    """Latency with nothing else in flight: what a request costs, without queueing."""
    latencies = []
    for number in range(count):
        started = time.perf_counter()
        await call(number)
        latencies.append((time.perf_counter() - started) * 1000.0)
    return latencies


def latency_table(title: str, rows: list[tuple[str, float | None, list[float], str]]) -> Table:
    table = Table(title=title)
    for column in ("path", "req/s", "p50", "p95", "p99", "p95 / Redis GET p95", "target p95"):
        table.add_column(column, justify="left" if column == "path" else "right")
    base_p95 = p(rows[0][2], 95)
    for name, rate, samples, target in rows:
        table.add_row(
            name,
            "" if rate is None else f"{rate:,.0f}",
            f"{p(samples, 50):.2f}",
            f"{p(samples, 95):.2f}",
            f"{p(samples, 99):.2f}",
            f"{p(samples, 95) / base_p95:.1f}x",
            target,
        )
    return table


def latency_figures(rows: list[tuple[str, float | None, list[float], str]]) -> list[Figure]:
    """The rows after the first (the Redis GET baseline) as figures against it."""
    base_name, _, base_samples, _ = rows[0]
    figures = []
    for name, _, samples, target in rows[1:]:
        if not target:
            continue
        points = (p(samples, 50), p(samples, 95), p(samples, 99))
        figures.append(
            figure(
                f"{name} p95",
                points[1],
                "ms",
                baseline=(f"{base_name.replace(' (baseline)', '')} p95", p(base_samples, 95)),
                target=f"p95 {target} ms",
                met=points[1] < TARGETS_MS[target],
                percentiles=points,
            )
        )
    return figures


async def drive(
    port: int, tenant: str, key: str, redis_url: str, args: argparse.Namespace
) -> tuple[list[Table], list[Figure]]:
    from urllib.parse import urlencode

    from redis.asyncio import BlockingConnectionPool, Redis

    users = [f"u{n}" for n in range(0, 20_000, 7)]
    url = f"/api/v1/tenants/{tenant}/recommendations?"
    http = KeepAliveClient(port, {"X-API-Key": key}, size=32)
    await http.open()
    hot = [url + urlencode({"user_id": user, "placement": "home"}) for user in users[:50]]
    for target in hot:  # fill the cache for the hit phase
        await http.get(target)

    async def hit(number: int) -> None:
        if await http.get(hot[number % len(hot)]) != 200:
            raise RuntimeError("recommendations failed")

    miss_count = [0]

    async def miss(number: int) -> None:
        miss_count[0] += 1
        params = {"user_id": users[miss_count[0] % len(users)], "placement": f"m{miss_count[0]}"}
        if await http.get(url + urlencode(params)) != 200:
            raise RuntimeError("recommendations failed")

    async def widget(number: int) -> None:
        if await http.get(f"/api/v1/tenants/{tenant}/widgets/home") != 200:
            raise RuntimeError("widget read failed")

    async def health(number: int) -> None:
        await http.get("/health")

    # The same number of connections as the HTTP client, waiting for a free one the same way.
    redis = Redis(connection_pool=BlockingConnectionPool.from_url(redis_url, max_connections=32))
    await redis.set(f"mercato:{{{tenant}}}:bench:probe", b"x" * 2000)

    async def redis_get(number: int) -> None:
        await redis.get(f"mercato:{{{tenant}}}:bench:probe")

    quiet = 300
    alone = [
        ("plain Redis GET (baseline)", None, await one_at_a_time(redis_get, quiet), ""),
        ("GET /health (no auth, no I/O)", None, await one_at_a_time(health, quiet), ""),
        (
            "GET {T}/widgets/home (auth + Redis cache)",
            None,
            await one_at_a_time(widget, quiet),
            "",
        ),
        ("recommendations, cache hit", None, await one_at_a_time(hit, quiet), "< 10"),
        ("recommendations, cache miss", None, await one_at_a_time(miss, quiet // 3), "< 50"),
    ]
    hits, hit_rate = await paced(hit, args.rate, args.seconds)
    misses, miss_rate = await paced(miss, args.miss_rate, args.seconds / 2)
    await http.close()
    plain, redis_rate = await paced(redis_get, args.rate, args.seconds / 4)
    await redis.delete(f"mercato:{{{tenant}}}:bench:probe")
    await redis.aclose()

    loaded = [
        ("plain Redis GET (baseline)", redis_rate, plain, ""),
        (f"recommendations, cache hit, offered {args.rate:g}/s", hit_rate, hits, "< 10"),
        (f"recommendations, cache miss, offered {args.miss_rate:g}/s", miss_rate, misses, "< 50"),
    ]
    tables = [
        latency_table("one request at a time (ms)", alone),
        latency_table("open-loop load at a fixed rate (ms)", loaded),
    ]
    return tables, latency_figures(loaded) + latency_figures(
        [(f"{name}, one at a time", r, s, t) for name, r, s, t in alone]
    )


def catalog_rows(catalog: CatalogTable) -> list[dict[str, object]]:
    return [
        {
            "product_id": str(catalog.product_id[n]),
            "name": str(catalog.name[n]),
            "price": f"{catalog.price[n]:.2f}",
            "currency": "EUR",
            "brand": str(catalog.brand[n]),
            "category": str(catalog.category[n]),
            "description": str(catalog.description[n]),
            "image_url": f"https://img.example/{catalog.product_id[n]}.png",
            "available": bool(catalog.available[n]),
        }
        for n in range(len(catalog))
    ]


def event_docs(events: EventLog, start: int, stop: int, shift: float) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    for n in range(start, stop):
        doc: dict[str, object] = {
            "type": str(events.type[n]),
            "user_id": str(events.user_id[n]),
            "session_id": str(events.session_id[n]),
            "product_id": str(events.product_id[n]),
            "timestamp": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(events.timestamp[n]) + shift)
            ),
        }
        if doc["type"] == "purchase":
            doc.update(
                revenue="10.00", currency="EUR", properties={"order_id": str(events.order_id[n])}
            )
        docs.append(doc)
    return docs


async def load_and_fit(tenant: str, products: int, events_count: int, report: Path) -> None:
    """Runs in a child process, so the numeric libraries' threads leave with it: puts a
    synthetic shop into the catalog and the event store through their services, then
    fits the tenant's model from the database as the periodic job does."""
    from mercato.kernel.db import close_database, init_database
    from mercato.kernel.redis import close_redis, init_redis
    from mercato.modules.catalog.batch import upsert_batch
    from mercato.modules.recommendations import fit_tenant
    from mercato.modules.recommendations.db_source import DatabaseSource
    from mercato.modules.tracking import store_events
    from mercato.settings import get_settings

    tenant_id = uuid.UUID(tenant)
    events, catalog = synthetic_shop(products, events_count)
    database = init_database(get_settings())
    init_redis(get_settings())
    try:
        started = time.perf_counter()
        await upsert_batch(database, tenant_id, catalog_rows(catalog))
        stocked = time.perf_counter() - started
        shift = time.time() - 3_600 - float(events.timestamp.max())
        started = time.perf_counter()
        for first in range(0, len(events), 20_000):
            docs = event_docs(events, first, min(first + 20_000, len(events)), shift)
            async with database.tenant_session(tenant_id) as session:
                await store_events(session, tenant_id, docs, source="bench", realtime=False)
        tracked = time.perf_counter() - started
        started = time.perf_counter()
        outcome = await fit_tenant(tenant_id, DatabaseSource(get_settings().reco_history_days))
        total = time.perf_counter() - started
    finally:
        await close_redis()
        await close_database()
    console.print(
        f"synthetic shop: {len(catalog):,} products (catalog batch {stocked:.1f}s), "
        f"{len(events):,} events (stored {tracked:.1f}s)\n"
        f"model fit from the database: [bold]{total:.1f}s[/bold] in all, "
        f"{outcome.seconds:.1f}s of it fitting (target < 60 s: {total / 60:.2f} of the "
        f"budget); {outcome.events:,} events, {outcome.products:,} products, "
        f"{outcome.users:,} shoppers, model file {outcome.size_bytes / 1e6:.0f} MB"
    )
    await asyncio.to_thread(
        report.write_text, json.dumps({"total_s": total, "fit_s": outcome.seconds})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=500.0, help="cache-hit requests per second")
    parser.add_argument("--miss-rate", type=float, default=100.0, help="cache-miss requests/s")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--fit-tenant", help=argparse.SUPPRESS)
    parser.add_argument("--fit-report", type=Path, help=argparse.SUPPRESS)
    add_json_option(parser)
    args = parser.parse_args()
    if args.fit_tenant:
        asyncio.run(load_and_fit(args.fit_tenant, args.products, args.events, args.fit_report))
        return

    database_url, name = scratch_database(args.server)
    data_dir = Path(tempfile.mkdtemp(prefix="mercato-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    env.update(
        {
            "MERCATO_DATABASE_URL": database_url,
            "MERCATO_REDIS_URL": args.redis,
            "MERCATO_DATA_DIR": str(data_dir),
            "MERCATO_LOG_LEVEL": "WARNING",
            "MERCATO_RATE_LIMITS": '{"default": "10000000/minute"}',
        }
    )
    os.environ.update(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    subprocess.run([sys.executable, "-m", "mercato.cli", "migrate"], env=env, check=True)
    server = start_server(env, port, data_dir / "server.log", args.workers)
    try:
        tenant, key = create_tenant(base)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--fit-tenant",
                tenant,
                "--products",
                str(args.products),
                "--events",
                str(args.events),
                "--fit-report",
                str(data_dir / "fit.json"),
            ],
            env=env,
            check=True,
        )
        tables, figures = asyncio.run(drive(port, tenant, key, args.redis, args))
        for table in tables:
            console.print(table)
        fit = json.loads((data_dir / "fit.json").read_text())
        figures.append(
            figure(
                f"model fit from the database, {args.products:,} products, {args.events:,} events",
                fit["total_s"],
                "s",
                target="< 60 s",
                met=fit["total_s"] < FIT_TARGET_S,
            )
        )
        write_json(args.json, figures)
    except Exception:
        console.print(f"server log: {data_dir / 'server.log'}, exit code {server.poll()}")
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop_database(args.server, name)


if __name__ == "__main__":
    main()
