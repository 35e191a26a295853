"""Batch ingestion throughput through the API, next to a raw COPY of the same rows.

    .venv/bin/python bench/ingest_batch.py [--events 1000000] [--concurrency 4] [--workers 1]

`mercato serve --workers N` (scratch database on the local PostgreSQL, local Redis; `make
bench` runs two API processes, as issue 16's budget is stated for)
receives simulated shop events as `POST {T}/events/batch` bodies of 1,000, pre-encoded so
the load generator stays cheap. The baseline COPYs the very same rows straight into the
`event` table (a text COPY as the owner, no validation, no dedup keys, no HTTP): the
floor of what PostgreSQL needs to store them. The ratio says what the API costs on top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime
from datetime import time as clock
from itertools import islice

import httpx
import psycopg
from ingest_server import DEFAULT_REDIS, DEFAULT_SERVER, Target, running_api
from results import add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table

from mercato.modules.tracking.ingest import check_batch
from mercato.modules.tracking.validation import ClockWindow, EventRow
from mercato.simulation import generate_catalog, generate_locations, simulate

BENCH = {
    "order": 10,
    "quick": ["--events", "200000", "--workers", "2"],
    "full": ["--events", "1000000", "--workers", "2"],
}
BATCH = 1000
# DESIGN.md's budget (issue 16): batches at half the speed of a raw COPY of the same rows.
TARGET_RATIO = 0.5
COLUMNS = [c for c in EventRow._fields if c != "order_id"]


def simulated_events(count: int) -> list[dict]:
    end = datetime.combine(datetime.now(UTC).date(), clock(), UTC)
    catalog = generate_catalog(products=500, seed=42, until=end)
    users = max(5000, count // 40)
    stream = simulate(
        catalog=catalog, locations=generate_locations(42), days=90, users=users, seed=42, end=end
    )
    return list(islice(stream, count))


async def post_batches(
    target: Target, bodies: list[bytes], concurrency: int
) -> tuple[float, int, int]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    accepted = duplicates = 0
    headers = {"X-API-Key": target.key, "Content-Type": "application/json"}

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal accepted, duplicates
        while not queue.empty():
            body = queue.get_nowait()
            response = await http.post(f"{target.events_path}/batch", content=body, headers=headers)
            response.raise_for_status()
            result = response.json()
            accepted += result["accepted"]
            duplicates += result["duplicates"]

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=target.base_url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, accepted, duplicates


def copy_rows(dsn: str, events: list[dict]) -> float:
    """A text COPY of the same rows for another tenant id; the time of the COPY alone."""
    rows, _ = check_batch(events, ClockWindow.around(datetime.now(UTC)))
    tenant = uuid.uuid4()
    columns = ["tenant_id", *COLUMNS, "source"]
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy(f"COPY event ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((tenant, *row[:-1], "api"))
        conn.commit()
        return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="API processes")
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()
    console.print(f"simulating {args.events:,} events …")
    events = simulated_events(args.events)
    bodies = [
        json.dumps({"events": events[i : i + BATCH]}, separators=(",", ":")).encode()
        for i in range(0, len(events), BATCH)
    ]
    async with running_api(args.server, args.redis, workers=args.workers) as target:
        console.print(f"posting {len(bodies):,} batches with {args.concurrency} in flight …")
        cpu = target.cpu_seconds()
        elapsed, accepted, duplicates = await post_batches(target, bodies, args.concurrency)
        api_cpu = target.cpu_seconds() - cpu
        load = os.getloadavg()
        console.print("COPYing the same rows …")
        copy_elapsed = await asyncio.to_thread(copy_rows, target.owner_dsn, events)
    api_rate, copy_rate = len(events) / elapsed, len(events) / copy_elapsed
    table = Table(title=f"batch ingestion, {len(events):,} events, batches of {BATCH}")
    for column in ("path", "seconds", "events/s", "ratio to COPY"):
        table.add_column(column, justify="right")
    table.add_row(
        "POST /events/batch (API)",
        f"{elapsed:.1f}",
        f"{api_rate:,.0f}",
        f"{api_rate / copy_rate:.2f}",
    )
    table.add_row("raw COPY (baseline)", f"{copy_elapsed:.1f}", f"{copy_rate:,.0f}", "1.00")
    console.print(table)
    console.print(
        f"accepted {accepted:,}, duplicates {duplicates:,} "
        f"(target ≥ {TARGET_RATIO:g}x raw COPY = {TARGET_RATIO * copy_rate:,.0f} events/s)"
    )
    console.print(
        f"API process CPU: {api_cpu:.1f} s = {api_cpu * 1e6 / len(events):.1f} µs per event "
        f"(one core would sustain {len(events) / api_cpu:,.0f} events/s of API work); "
        f"load average {load[0]:.2f} on {os.cpu_count()} cores"
    )
    write_json(
        args.json,
        [
            figure(
                f"POST /events/batch, {len(events):,} events, {args.concurrency} in flight, "
                f"{args.workers} API process{'es' if args.workers > 1 else ''}",
                api_rate,
                "events/s",
                baseline=("raw COPY", copy_rate),
                target=f"≥ {TARGET_RATIO:g}x raw COPY",
                met=api_rate >= TARGET_RATIO * copy_rate,
            ),
            figure(
                "API processes' CPU per event",
                api_cpu * 1e6 / len(events),
                "µs",
                baseline=("COPY wall time per row", copy_elapsed * 1e6 / len(events)),
            ),
        ],
    )


if __name__ == "__main__":
    asyncio.run(main())
