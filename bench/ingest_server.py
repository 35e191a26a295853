"""Shared set-up for the server benchmarks: a scratch database, an API server, a tenant.

Creates `mercato_bench_<pid>` on the PostgreSQL server given by `--server` (default the
local one), migrates it, starts `mercato serve` (one process unless told otherwise)
against it and the local Redis, and signs up a tenant with a secret key. Everything is
removed at the end. `api_server` starts and stops a server alone, so a benchmark can
serve one database with several process counts in turn.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import IO

import httpx
import psutil

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PASSWORD = "bench-password-" + "x" * 8


@dataclass(frozen=True)
class Target:
    base_url: str
    port: int
    tenant_id: str
    key: str
    owner_dsn: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the API process, and its workers if any, used so far.

        Unlike latency, this does not depend on what else the machine is running, so
        `requests / cpu seconds` says what one process sustains on one idle core.
        """
        server = psutil.Process(self.pid)
        total = 0.0
        for process in (server, *server.children(recursive=True)):
            times = process.cpu_times()
            total += times.user + times.system
        return total

    @property
    def events_path(self) -> str:
        return f"/api/v1/tenants/{self.tenant_id}/events"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new database on `server`; on a Citus coordinator (`make citus`), on every node."""
    from mercato.kernel import citus

    name = f"mercato_bench_{os.getpid()}_{secrets.token_hex(2)}"
    citus.create_database(server, name)
    dsn = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield dsn
    finally:
        citus.drop_database(server, name)


def api_environment(dsn: str, redis: str, settings: dict[str, str] | None = None) -> dict[str, str]:
    """The API processes' environment; `settings` (MERCATO_* variables) override."""
    return {
        **os.environ,
        "MERCATO_DATABASE_URL": dsn,
        "MERCATO_REDIS_URL": redis,
        "MERCATO_LOG_LEVEL": "WARNING",
        "MERCATO_RATE_LIMIT_ENABLED": "false",
        "MERCATO_DB_POOL_SIZE": "40",
        **(settings or {}),
    }


def _wait_ready(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the API process exited during start-up")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the API process did not become ready")


async def sign_up_tenant(base: str) -> tuple[str, str]:
    """A new staff user, their tenant and a read_write secret key: (tenant id, key)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        email = f"bench-{secrets.token_hex(4)}@bench.example"
        await http.post(
            "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": "B"}
        )
        login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        tenant = await http.post("/api/v1/tenants", json={"name": "Bench"}, headers=headers)
        tenant_id = tenant.json()["id"]
        key = await http.post(
            f"/api/v1/tenants/{tenant_id}/api-keys",
            json={"name": "bench", "kind": "secret", "permission": "read_write"},
            headers=headers,
        )
        return tenant_id, key.json()["key"]


def _start_api(
    env: dict[str, str], port: int, workers: int = 1
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Migrate the scratch database, then start the API server logging to a temp file."""
    subprocess.run(
        [sys.executable, "-m", "mercato.cli", "migrate"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = tempfile.NamedTemporaryFile(prefix="mercato-bench-", suffix=".log", delete=False)  # noqa: SIM115
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
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log


@asynccontextmanager
async def api_server(
    dsn: str, redis: str, *, workers: int = 1, settings: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, int, int]]:
    """`mercato serve --workers N` on a migrated `dsn`: yields (base URL, port, pid)."""
    port = free_port()
    env = api_environment(dsn, redis, settings)
    process, log = await asyncio.to_thread(_start_api, env, port, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(_wait_ready, process, base)
        yield base, port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)
        log.close()
        print(f"API process log: {log.name}", file=sys.stderr)


@asynccontextmanager
async def running_api(
    server: str = DEFAULT_SERVER,
    redis: str = DEFAULT_REDIS,
    *,
    workers: int = 1,
    settings: dict[str, str] | None = None,
) -> AsyncIterator[Target]:
    """One migrated scratch database and an API server (one process by default) serving it."""
    with scratch_database(server) as dsn:
        async with api_server(dsn, redis, workers=workers, settings=settings) as served:
            base, port, pid = served
            tenant_id, key = await sign_up_tenant(base)
            yield Target(base, port, tenant_id, key, dsn, pid)
