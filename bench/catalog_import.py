"""Bulk import through `POST {T}/products/batch`, next to a raw COPY of the same rows.

    .venv/bin/python bench/catalog_import.py [--products 100000] [--batch 10000]

Starts `mercato.app` under uvicorn on 127.0.0.1 (one process, as `mercato serve`), signs
up, creates a tenant and posts the generated catalog in batches; bodies are encoded
before the clock starts so the figure is the server's. The baseline COPYs the same rows
into a bare table with the same columns (no indexes, triggers, validation or RLS): the
floor any import into this PostgreSQL can reach.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import psutil
import psycopg
from catalog_setup import product_rows, scratch_database
from psycopg.types.json import Jsonb
from results import add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table

from mercato.kernel.db import libpq_url
from mercato.modules.catalog.upsert import COLUMNS

BENCH = {
    "order": 30,
    "quick": ["--products", "20000", "--batch", "5000"],
    "full": ["--products", "100000", "--batch", "10000"],
}
PASSWORD = "bench-password-123"
TARGET_RATE = 5_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "mercato.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ, "MERCATO_LOG_LEVEL": "WARNING"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def _tenant(client: httpx.Client) -> tuple[str, dict[str, str]]:
    email = f"bench-{time.time_ns()}@shop.example"
    signup = {"email": email, "password": PASSWORD, "name": "Bench"}
    client.post("/api/v1/auth/signup", json=signup).raise_for_status()
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    tenant = client.post("/api/v1/tenants", json={"name": "Bench shop"}, headers=headers)
    tenant.raise_for_status()
    return str(tenant.json()["id"]), headers


def _cpu_seconds(server_pid: int, dsn: str) -> tuple[float, float]:
    """CPU time so far of the API process and of its PostgreSQL backends (same machine)."""
    with psycopg.connect(dsn) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'mercato' "
                "AND datname = current_database()"
            )
        ]
    backends = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        backends += times.user + times.system
    server = psutil.Process(server_pid).cpu_times()
    return server.user + server.system, backends


def _post_all(
    client: httpx.Client, tenant_id: str, headers: dict[str, str], bodies: list[bytes]
) -> tuple[float, int, int, int]:
    created = updated = failed = 0
    started = time.perf_counter()
    for body in bodies:
        response = client.post(
            f"/api/v1/tenants/{tenant_id}/products/batch",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        response.raise_for_status()
        result = response.json()
        created += result["created"]
        updated += result["updated"]
        failed += len(result["failed"])
    return time.perf_counter() - started, created, updated, failed


def _copy_baseline(dsn: str, rows: list[dict[str, Any]]) -> float:
    columns = [("product_id", "text"), *(c for c in COLUMNS if c[0] != "category_id")]
    names = [name for name, _ in columns]
    records = [
        tuple(
            Jsonb(row.get(name) or {})
            if kind == "jsonb"
            else row.get(name) or []
            if kind == "text[]"
            else row.get(name)
            for name, kind in columns
        )
        for row in rows
    ]
    with psycopg.connect(dsn) as conn:
        ddl = ", ".join(f"{name} {kind}" for name, kind in columns)
        conn.execute(f"CREATE TABLE copy_baseline ({ddl})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY copy_baseline ({', '.join(names)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE copy_baseline")
        conn.commit()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()
    with scratch_database() as url:
        rows = product_rows(args.products, seed=7)
        bodies = [
            json.dumps({"products": rows[i : i + args.batch]}).encode()
            for i in range(0, len(rows), args.batch)
        ]
        baseline_rows = [{**row, "category_path": row["category"]} for row in rows]
        port = _free_port()
        server = _serve(port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
                tenant_id, headers = _tenant(client)
                dsn = libpq_url(url)
                cpu_before = _cpu_seconds(server.pid, dsn)
                first = _post_all(client, tenant_id, headers, bodies)
                cpu_after = _cpu_seconds(server.pid, dsn)
                second = _post_all(client, tenant_id, headers, bodies)
        finally:
            server.terminate()
            server.wait(timeout=30)
        copy_s = _copy_baseline(libpq_url(url), baseline_rows)
    n = args.products
    table = Table(title=f"Catalog import: {n:,} products, batches of {args.batch:,}")
    for column in ("path", "seconds", "products/s", "vs COPY"):
        table.add_column(column, justify="right" if column != "path" else "left")
    copy_rate = n / copy_s
    figures = []
    for label, (seconds, created, updated, failed) in (
        ("batch API, new products", first),
        ("batch API, replacing all", second),
    ):
        assert failed == 0, f"{failed} rows were rejected"
        assert created + updated == n
        rate = n / seconds
        table.add_row(label, f"{seconds:.2f}", f"{rate:,.0f}", f"{rate / copy_rate:.2f}x")
        figures.append(
            figure(
                f"{label}, {n:,} in batches of {args.batch:,}",
                rate,
                "products/s",
                baseline=("raw COPY into a bare table", copy_rate),
                target="≥ 5,000 products/s",
                met=rate >= TARGET_RATE,
            )
        )
    table.add_row("raw COPY (baseline)", f"{copy_s:.2f}", f"{copy_rate:,.0f}", "1.00x")
    console.print(table)
    api_cpu = cpu_after[0] - cpu_before[0]
    db_cpu = cpu_after[1] - cpu_before[1]
    console.print(
        f"new products used {api_cpu:.1f} CPU-s in the API process and {db_cpu:.1f} CPU-s in "
        f"PostgreSQL backends: {n / (api_cpu + db_cpu):,.0f} products per CPU-second; with "
        f"the two overlapped on 2 idle cores, {n / max(api_cpu, db_cpu):,.0f} products/s. "
        f"Load average during the run: {os.getloadavg()[0]:.2f}."
    )
    figures.append(
        figure("CPU per new product, API process + PostgreSQL", (api_cpu + db_cpu) * 1e6 / n, "µs")
    )
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
