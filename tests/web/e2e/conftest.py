"""A live `mercato serve --demo` for headless Chromium driven by Playwright (`browser`).

The server is a real subprocess on a free port, with its own temporary data directory,
on the suite's database and Redis (already migrated), so the test process can also mint
tokens with the same signing keys. One server serves every e2e module of the session (the
demo seed is the slow part), without the demo's live traffic; `test_live_demo` starts
its own with it. They run no job worker: the suite's queue stays the suite's. Screenshots
go to `DASHBOARD_SCREENSHOTS` when set (`docs/screenshots` to refresh the ones
docs/dashboard.md shows), else to a temporary directory.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.factories import token_with_auth_time


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    email: str
    password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the server exited early ({process.returncode}):\n{output[-4000:]}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server was not ready within {timeout_s}s")


@contextmanager
def demo_server(data_dir: Path, *, traffic_rate: float, ready_s: float) -> Iterator[LiveServer]:
    """`mercato serve --demo` as `make demo` runs it (without the job worker, and with
    `traffic_rate` simulated visits a second), stopped at the end."""
    port = _free_port()
    env = {
        **os.environ,
        "MERCATO_DATA_DIR": str(data_dir),
        "MERCATO_LOG_LEVEL": "WARNING",
        "MERCATO_DEMO_TRAFFIC_RATE": str(traffic_rate),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mercato.cli",
            "serve",
            "--demo",
            "--no-with-worker",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=data_dir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, url, timeout_s=ready_s)
        credentials = json.loads((data_dir / "demo-credentials.json").read_text())
        yield LiveServer(url, data_dir, credentials["email"], credentials["password"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, app: object) -> Iterator[LiveServer]:
    """The demo without its live traffic: these tests' screens stay as the seed left them."""
    # The seed takes 1-4 minutes on a busy 2-core machine.
    with demo_server(tmp_path_factory.mktemp("live-data"), traffic_rate=0, ready_s=300) as server:
        yield server


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("DASHBOARD_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


OFFLINE_HOSTS = ("cdn.example.com", "shop.example.com")
"""Hosts the demo data names that do not exist; nothing on our pages should load them."""


def console_problems(messages: list[tuple[str, str]]) -> list[str]:
    """Console errors, except a failed load of a resource on a host that is offline by design.

    `messages` are `(text, location url)` pairs collected from `page.on("console")`.
    """
    return [
        text
        for text, url in messages
        if not (url and any(host in url for host in OFFLINE_HOSTS) and "ERR_" in text)
    ]


async def make_login_stale(context: Any, server: LiveServer) -> None:
    """The browser's login is now ten minutes old, so sensitive actions ask for step-up.

    The same sign-in session (`sid`) as before: the page's CSRF token is bound to it.
    """
    cookies = await context.cookies(f"{server.url}/app")
    current = next(c["value"] for c in cookies if c["name"] == "mercato_access")
    claims = jwt.decode(current, options={"verify_signature": False})
    stale = await token_with_auth_time(
        str(claims["sub"]),
        datetime.now(UTC) - timedelta(minutes=10),
        session_id=uuid.UUID(str(claims["sid"])),
    )
    await context.add_cookies(
        [{"name": "mercato_access", "value": stale, "url": f"{server.url}/app", "httpOnly": True}]
    )
