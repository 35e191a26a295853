"""Processes dying: a worker SIGKILLed in the middle of a job, the API stopped by SIGTERM.

- The killed worker's job is retried by the next worker (stalled-job recovery through
  heartbeats) and completes once: one delivery, one success, the same delivery id
  (the receiver's idempotency key) on both the interrupted and the completed attempt.
- SIGTERM lets requests already in flight finish before the API process exits.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.hardening.live import Deployment
from tests.hardening.merchant import open_merchant
from tests.hardening.receiver import webhook_receiver

pytestmark = pytest.mark.slow

# Fast heartbeats so the test waits seconds, not the production default of 30 s.
HEARTBEATS = {"job_heartbeat_s": "0.5", "job_stalled_after_s": "2"}


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout_s}s")


def test_worker_killed_mid_job_has_the_job_retried_and_completed_once(
    deployment: Deployment,
) -> None:
    api = deployment.serve("api-jobs")
    merchant = open_merchant(api.url, "worker-crash")
    with webhook_receiver(hold_first=True) as receiver, httpx.Client(base_url=api.url) as http:
        hook = http.post(
            f"{merchant.tenant_path}/webhooks",
            json={"url": receiver.url, "event_types": ["location.created"]},
            headers=merchant.headers,
        )
        assert hook.status_code == 201, hook.text
        created = http.put(
            f"{merchant.tenant_path}/locations/crash-store",
            json={"name": "Crash store"},
            headers=merchant.headers,
        )
        assert created.status_code == 201, created.text

        doomed = deployment.worker("worker-doomed", **HEARTBEATS)
        assert receiver.first_arrived.wait(90), doomed.output()[-3000:]
        doomed.send(signal.SIGKILL)
        assert doomed.wait(10) == -signal.SIGKILL
        time.sleep(float(HEARTBEATS["job_stalled_after_s"]) + 1)

        survivor = deployment.worker("worker-survivor", **HEARTBEATS)
        deliveries_url = f"{merchant.tenant_path}/webhooks/{hook.json()['id']}/deliveries"

        def delivered() -> bool:
            page = http.get(deliveries_url, headers=merchant.headers).json()["data"]
            return bool(page) and page[0]["status"] == "succeeded"

        _wait_for(delivered, 60, "the retried delivery")
        deliveries = http.get(deliveries_url, headers=merchant.headers).json()["data"]
        assert survivor.stop() == 0, survivor.output()[-3000:]

    assert len(deliveries) == 1
    assert deliveries[0]["attempts"] == 1
    assert [r.event for r in receiver.requests] == ["location.created", "location.created"]
    assert {r.delivery_id for r in receiver.requests} == {deliveries[0]["id"]}
    assert receiver.requests[0].body == receiver.requests[1].body
    with psycopg.connect(deployment.owner_dsn()) as conn:
        jobs = conn.execute(
            "SELECT status, attempts FROM procrastinate_jobs "
            "WHERE task_name = 'webhooks.deliver' AND args->>'delivery_id' = %s",
            [deliveries[0]["id"]],
        ).fetchall()
    # One job, run twice (the interrupted run and the retry), succeeded once.
    assert jobs == [("succeeded", 2)]
    assert '"stalled_job_retried"' in survivor.output()


def _slow_body(document: dict[str, str], go_on: threading.Event) -> Iterator[bytes]:
    """Send half the body, wait until the test has sent SIGTERM, then the rest."""
    raw = json.dumps(document).encode()
    yield raw[: len(raw) // 2]
    go_on.wait(30)
    time.sleep(0.5)
    yield raw[len(raw) // 2 :]


def test_sigterm_lets_in_flight_requests_finish(deployment: Deployment) -> None:
    api = deployment.serve("api-sigterm")
    merchant = open_merchant(api.url, "sigterm")
    sigterm_sent = threading.Event()
    answers: dict[str, httpx.Response | Exception] = {}

    def in_flight(code: str) -> None:
        try:
            answers[code] = httpx.put(
                f"{api.url}{merchant.tenant_path}/locations/{code}",
                content=_slow_body({"name": f"Store {code}"}, sigterm_sent),
                headers={**merchant.headers, "content-type": "application/json"},
                timeout=60,
            )
        except httpx.HTTPError as exc:
            answers[code] = exc

    codes = [f"inflight-{n}" for n in range(3)]
    threads = [threading.Thread(target=in_flight, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every request has sent its headers and half its body
    api.send(signal.SIGTERM)
    time.sleep(0.5)
    sigterm_sent.set()
    for thread in threads:
        thread.join(60)

    assert {code: getattr(a, "status_code", a) for code, a in answers.items()} == {
        code: 201 for code in codes
    }
    try:
        exit_code = api.wait(30)
    except subprocess.TimeoutExpired:
        pytest.fail("the API did not exit within 30 s of SIGTERM")
    assert exit_code in (0, 128 + signal.SIGTERM), api.output()[-3000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api.url}/health", timeout=5)
    with psycopg.connect(deployment.owner_dsn()) as conn:
        stored = {
            row[0]
            for row in conn.execute("SELECT code FROM location WHERE code = ANY(%s)", [codes])
        }
    assert stored == set(codes)
