"""Boot `mercato serve --demo` as a new user would: empty data directory, embedded servers."""

from __future__ import annotations

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


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    env.update({"MERCATO_DATA_DIR": str(data_dir), "MERCATO_LOG_FORMAT": "json"})
    return subprocess.Popen(
        [sys.executable, "-m", "mercato.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=data_dir,
    )


def _wait_ready(process: subprocess.Popen[bytes], port: int, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"server exited early ({process.returncode}):\n{output[-4000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"not ready within {timeout_s}s")


def _stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output.decode()


def test_demo_boots_from_an_empty_data_dir_and_restarts_on_the_same_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    port = _free_port()

    first = _start(data_dir, port)
    try:
        _wait_ready(first, port, timeout_s=180)
        unknown = httpx.get(f"http://127.0.0.1:{port}/no-such-thing")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
    finally:
        output = _stop(first)
    assert first.returncode in (0, 128 + signal.SIGTERM), output[-3000:]
    assert "Demo ready" in output
    assert (data_dir / "pg" / "PG_VERSION").exists()

    second = _start(data_dir, port)
    try:
        _wait_ready(second, port, timeout_s=60)
    finally:
        output = _stop(second)
    assert "seeding" not in output, "the second start must reuse the seeded data"
    # Both servers stopped with the last process using them.
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    assert not (data_dir / "redis" / "redis.pid").exists()
