"""An event answered 202 is in PostgreSQL: SIGKILL the server mid-traffic, restart, count.

Runs `mercato serve` as a real process against the test database, sends single events
and batches concurrently, kills the process with SIGKILL while requests are still in
flight, starts a new one and checks that every acknowledged event id is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from typing import Any

import httpx
import psycopg
import pytest

from tests.factories import PASSWORD, unique_email
from tests.fakes.server import free_port

pytestmark = pytest.mark.slow


def _start(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MERCATO_LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "mercato.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_ready(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the server did not become ready")


async def _shop(http: httpx.AsyncClient) -> tuple[str, str]:
    email = unique_email("durable")
    await http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": "D"})
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    tenant = (await http.post("/api/v1/tenants", json={"name": "Durable"}, headers=headers)).json()[
        "id"
    ]
    key = await http.post(
        f"/api/v1/tenants/{tenant}/api-keys",
        json={"name": "k", "kind": "secret", "permission": "read_write"},
        headers=headers,
    )
    return tenant, key.json()["key"]


async def _send_until_killed(
    http: httpx.AsyncClient, tenant: str, key: str, process: subprocess.Popen[bytes]
) -> set[str]:
    acknowledged: set[str] = set()
    headers = {"X-API-Key": key}

    async def single(n: int) -> None:
        event = {"type": "page_view", "user_id": f"u{n % 7}", "event_id": f"single-{n}"}
        response = await http.post(f"/api/v1/tenants/{tenant}/events", json=event, headers=headers)
        if response.status_code == 202:
            acknowledged.add(event["event_id"])

    async def batch(n: int) -> None:
        events = [
            {"type": "page_view", "user_id": "b", "event_id": f"batch-{n}-{i}"} for i in range(200)
        ]
        response = await http.post(
            f"/api/v1/tenants/{tenant}/events/batch", json={"events": events}, headers=headers
        )
        if response.status_code == 202:
            acknowledged.update(e["event_id"] for e in events)

    async def guarded(call: Coroutine[Any, Any, None]) -> None:
        # A request in flight when the process died was never acknowledged.
        with contextlib.suppress(httpx.TransportError):
            await call

    tasks = []
    for n in range(20_000):
        if process.poll() is not None:
            break
        tasks.append(asyncio.create_task(guarded(single(n) if n % 4 else batch(n))))
        await asyncio.sleep(0.002)
        if len(acknowledged) >= 1000:
            process.send_signal(signal.SIGKILL)  # requests are still in flight
    await asyncio.gather(*tasks)
    return acknowledged


async def test_every_acknowledged_event_survives_a_sigkill(owner_dsn) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(port)
    try:
        await asyncio.to_thread(_wait_ready, process, base)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            tenant, key = await _shop(http)
            acknowledged = await _send_until_killed(http, tenant, key, process)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
    assert len(acknowledged) >= 1000

    restarted = _start(port)
    try:
        await asyncio.to_thread(_wait_ready, restarted, base)
        with psycopg.connect(owner_dsn) as conn:
            stored = {
                row[0]
                for row in conn.execute(
                    "SELECT event_id FROM event WHERE tenant_id = %s", (tenant,)
                )
            }
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            listed = await http.get(
                f"/api/v1/tenants/{tenant}/events", params={"limit": 1}, headers={"X-API-Key": key}
            )
        assert listed.status_code == 200
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged events were lost"
