"""`mercato serve --workers 2`: two processes answer on one port and share what they must.

The server runs on the suite's (scratch, migrated) database. Which process answered a
request is read from the operating system: the worker process that holds the server end
of the client's TCP connection. The test shows that both workers serve, that a key
revoked through one is refused by both, and that uvicorn's supervisor replaces a worker
that dies instead of leaving the port half served.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.hardening.live import Deployment, Server
from tests.hardening.merchant import open_merchant

pytestmark = pytest.mark.slow


def _workers(server: Server) -> set[int]:
    """The supervisor's live server processes (not multiprocessing's resource tracker)."""
    pids = set()
    for child in psutil.Process(server.popen.pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.Error:  # a dead worker not yet reaped by the supervisor
            continue
    return pids


def _owner(local_port: int, pids: set[int]) -> int:
    """The worker holding the server end of the connection from `local_port`."""
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == local_port:
                return pid
    raise AssertionError(f"no worker holds the connection from port {local_port}")


def _statuses_by_worker(
    server: Server, path: str, headers: dict[str, str], within_s: float = 60
) -> dict[int, int]:
    """GET `path` on fresh connections until both workers have answered (a worker just
    started may take seconds to accept: it imports the application first)."""
    pids = _workers(server)
    assert len(pids) == 2, f"expected two worker processes, found {pids}"
    seen: dict[int, int] = {}
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            seen[_owner(conn.sock.getsockname()[1], pids)] = response.status
        finally:
            conn.close()
        if len(seen) == 2:
            return seen
        time.sleep(0.02)
    pytest.fail(f"only {sorted(seen)} of {sorted(pids)} answered within {within_s} s")


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Server]:
    deployment = Deployment.on_suite_database(tmp_path / "serve")
    try:
        yield deployment.serve(workers=2, log_level="INFO")
    finally:
        deployment.close()


def test_two_workers_answer_and_both_refuse_a_revoked_key(two_workers: Server) -> None:
    merchant = open_merchant(two_workers.url, "workers")
    path = f"{merchant.tenant_path}/locations"
    key = {"X-API-Key": merchant.api_key}
    before = _statuses_by_worker(two_workers, path, key)
    assert sorted(before.values()) == [200, 200]  # each worker has seen (and kept) the key

    revoke = http.client.HTTPConnection("127.0.0.1", two_workers.port, timeout=10)
    revoke.request(
        "DELETE", f"{merchant.tenant_path}/api-keys/{merchant.api_key_id}", headers=merchant.headers
    )
    assert revoke.getresponse().status == 204
    revoke.close()

    # The promise is "within 5 s": the worker that did not revoke learns it by notification.
    deadline = time.monotonic() + 5
    while sorted((after := _statuses_by_worker(two_workers, path, key)).values()) != [401, 401]:
        assert time.monotonic() < deadline, f"still accepted after 5 s: {after}"
        time.sleep(0.1)
    assert after.keys() == before.keys()


def test_a_worker_that_dies_is_replaced(two_workers: Server) -> None:
    first, second = sorted(_workers(two_workers))
    psutil.Process(first).kill()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = _workers(two_workers)
        if len(current) == 2 and first not in current:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the dead worker {first} was not replaced: {_workers(two_workers)}")
    assert second in current
    assert f"Child process [{first}] died" in two_workers.output()  # said, not silent
    answered = _statuses_by_worker(two_workers, "/ready", {})
    assert answered.keys() == current
    assert set(answered.values()) == {200}
