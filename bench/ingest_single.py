"""Single-event ingestion latency at a steady request rate, next to `/health` at the same rate.

    .venv/bin/python bench/ingest_single.py [--rate 1000] [--seconds 20] [--connections 32]

One `mercato serve` process (scratch database on the local PostgreSQL, local Redis).
The load generator is open-loop: requests are scheduled at fixed intervals whatever the
server does, and each latency is measured from its *scheduled* start, so a slow server
cannot hide its queueing (no coordinated omission). It speaks HTTP/1.1 keep-alive over
raw asyncio streams with pre-built requests, to stay cheap on a 2-core machine. The
`/health` run (no database, no auth) is the floor of the stack: HTTP, middleware, the
event loop and this load generator; the ratio says what ingestion adds on top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from dataclasses import dataclass, field

import numpy as np
from ingest_server import DEFAULT_REDIS, DEFAULT_SERVER, Target, running_api
from results import add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table

BENCH = {
    "order": 20,
    "quick": ["--rate", "1000", "--seconds", "8"],
    "full": ["--rate", "1000", "--seconds", "20"],
}
TARGET_P95_MS = 10.0


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu_s: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s * 1000 / max(1, len(self.latencies_ms))


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def drive(port: int, requests: list[bytes], rate: float, connections: int) -> Run:
    """Send `requests` at `rate` per second over a pool of keep-alive connections."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    run = Run()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(raw: bytes, due: float) -> None:
        await asyncio.sleep(max(0.0, due - loop.time()))
        reader, writer = await pool.get()
        try:
            writer.write(raw)
            status = await _read_response(reader)
            run.latencies_ms.append((loop.time() - due) * 1000)
            run.statuses[status] = run.statuses.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError):
            run.errors += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            pool.put_nowait((reader, writer))

    await asyncio.gather(*(one(raw, start + i / rate) for i, raw in enumerate(requests)))
    while not pool.empty():
        pool.get_nowait()[1].close()
    return run


def event_doc(n: int) -> dict[str, str]:
    """The `n`-th event of the benchmarks: a product view with its own event id."""
    return {
        "type": "view_item",
        "user_id": f"u{n % 5000}",
        "session_id": f"s{n % 20000}",
        "product_id": f"SKU-{n % 500:06d}",
        "price": "19.99",
        "currency": "EUR",
        "event_id": f"bench-{n}",
    }


def event_requests(target: Target, count: int, offset: int) -> list[bytes]:
    headers = {"X-API-Key": target.key, "Content-Type": "application/json"}
    requests = []
    for n in range(offset, offset + count):
        body = json.dumps(event_doc(n), separators=(",", ":")).encode()
        requests.append(_request("POST", target.events_path, headers, body))
    return requests


def percentiles(run: Run) -> tuple[float, float, float]:
    values = np.asarray(run.latencies_ms)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return float(p50), float(p95), float(p99)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()
    count = int(args.rate * args.seconds)
    async with running_api(args.server, args.redis) as target:
        warm = await drive(
            target.port, event_requests(target, 500, 10_000_000), 250, args.connections
        )
        console.print(f"warm-up: {len(warm.latencies_ms)} events, statuses {warm.statuses}")
        cpu = target.cpu_seconds()
        health = await drive(
            target.port, [_request("GET", "/health", {})] * count, args.rate, args.connections
        )
        health.server_cpu_s, cpu = target.cpu_seconds() - cpu, target.cpu_seconds()
        events = await drive(
            target.port, event_requests(target, count, 0), args.rate, args.connections
        )
        events.server_cpu_s = target.cpu_seconds() - cpu
        load = os.getloadavg()
    table = Table(title=f"{args.rate:,.0f} requests/s for {args.seconds:g} s, one API process")
    columns = (
        "path",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p95 ratio",
        "CPU ms/req",
        "statuses",
        "errors",
    )
    for column in columns:
        table.add_column(column, justify="right")
    base = percentiles(health)
    for label, run in (("GET /health (baseline)", health), ("POST {T}/events", events)):
        p50, p95, p99 = percentiles(run)
        table.add_row(
            label,
            f"{p50:.2f}",
            f"{p95:.2f}",
            f"{p99:.2f}",
            f"{p95 / base[1]:.2f}",
            f"{run.cpu_ms_per_request:.2f}",
            str(run.statuses),
            str(run.errors),
        )
    console.print(table)
    console.print("target: POST {T}/events p95 < 10 ms at 1,000 requests/s")
    console.print(
        f"load average during the run: {load[0]:.2f} on {os.cpu_count()} cores; CPU ms/req "
        "is the API process's own CPU time per request, free of that contention"
    )
    event_p = percentiles(events)
    write_json(
        args.json,
        [
            figure(
                f"POST {{T}}/events p95 at {args.rate:,.0f} req/s",
                event_p[1],
                "ms",
                baseline=("GET /health p95, same rate", base[1]),
                target="p95 < 10 ms at 1,000 req/s",
                met=event_p[1] < TARGET_P95_MS
                and args.rate >= 1000
                and not events.errors
                and set(events.statuses) == {202},
                percentiles=event_p,
            ),
            figure(
                "API process CPU per event request",
                events.cpu_ms_per_request,
                "ms",
                baseline=("CPU per GET /health", health.cpu_ms_per_request),
            ),
        ],
    )


if __name__ == "__main__":
    asyncio.run(main())
