"""Boot `mercato serve --demo` as a new user would: empty data directory, embedded servers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log(data_dir: Path) -> Path:
    return data_dir.parent / "serve.log"


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """The server's output goes to a file: a pipe nobody reads would block it once full."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    env.update({"MERCATO_DATA_DIR": str(data_dir), "MERCATO_LOG_FORMAT": "json"})
    return subprocess.Popen(
        [sys.executable, "-m", "mercato.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=_log(data_dir).open("wb"),
        stderr=subprocess.STDOUT,
        cwd=data_dir,
    )


def _wait_ready(
    process: subprocess.Popen[bytes], data_dir: Path, port: int, timeout_s: float
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            output = _log(data_dir).read_text()
            pytest.fail(f"server exited early ({process.returncode}):\n{output[-4000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"not ready within {timeout_s}s")


def _stop(process: subprocess.Popen[bytes], data_dir: Path) -> str:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    return _log(data_dir).read_text()


def _first_feed_job_when_done(data_dir: Path, port: int, timeout_s: float) -> dict:
    """The demo's first push (to the built-in Merchant API sandbox), once it has finished."""
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10) as api:
        login = api.post("/auth/login", json=credentials).json()
        api.headers["Authorization"] = f"Bearer {login['access_token']}"
        tenant_id = api.get("/auth/session").json()["memberships"][0]["tenant_id"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            jobs = api.get(f"/tenants/{tenant_id}/feed-jobs").json()["data"]
            if jobs and jobs[-1]["status"] in ("success", "failed"):
                return dict(jobs[-1])
            time.sleep(0.5)
    pytest.fail(f"the demo's feed push did not finish within {timeout_s}s")


def test_demo_boots_from_an_empty_data_dir_and_restarts_on_the_same_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    port = _free_port()

    first = _start(data_dir, port)
    try:
        _wait_ready(first, data_dir, port, timeout_s=180)
        unknown = httpx.get(f"http://127.0.0.1:{port}/no-such-thing")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        job = _first_feed_job_when_done(data_dir, port, timeout_s=120)
        assert (job["status"], job["items_failed"]) == ("success", 0), job
        assert job["items_succeeded"] > 0
    finally:
        output = _stop(first, data_dir)
    assert first.returncode in (0, 128 + signal.SIGTERM), output[-3000:]
    assert "Demo ready" in output
    assert (data_dir / "pg" / "PG_VERSION").exists()

    second = _start(data_dir, port)
    try:
        _wait_ready(second, data_dir, port, timeout_s=60)
    finally:
        output = _stop(second, data_dir)
    assert "seeding" not in output, "the second start must reuse the seeded data"
    # Both servers stopped with the last process using them.
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    assert not (data_dir / "redis" / "redis.pid").exists()
