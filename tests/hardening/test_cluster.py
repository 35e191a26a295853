"""`make cluster`: two API processes and two workers behind nginx share their state.

The cluster runs from `deploy/cluster.sh` exactly as `make cluster` starts it, with its
own embedded PostgreSQL and Redis under a temporary directory and a tight login limit.
- a login rate limit hit alternately through both API processes trips at the same
  attempt as through one: the budget lives in Redis, not in a process;
- the API key cache and the token deny-list are shared: a key revoked (or a token logged
  out) through one process is refused by the other on the very next request;
- nginx spreads requests over both processes;
- with two workers, each job runs once: N webhook deliveries reach the receiver N times.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD
from tests.hardening.live import GENEROUS_LIMITS, free_port
from tests.hardening.merchant import open_merchant
from tests.hardening.receiver import webhook_receiver

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LOGIN_LIMIT = 5
DELIVERIES = 12


@dataclass(frozen=True)
class Cluster:
    url: str
    api_urls: tuple[str, str]
    directory: Path


def _script(action: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", str(REPO / "deploy" / "cluster.sh"), action],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"cluster {action} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    directory = tmp_path_factory.mktemp("cluster")
    port, api_ports = free_port(), (free_port(), free_port())
    limits = {**json.loads(GENEROUS_LIMITS), "login": f"{LOGIN_LIMIT}/minute"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    env.update(
        {
            "CLUSTER_DIR": str(directory),
            "CLUSTER_PORT": str(port),
            "CLUSTER_API_PORTS": " ".join(map(str, api_ports)),
            "CLUSTER_DEMO": "0",
            "MERCATO": str(REPO / ".venv" / "bin" / "mercato"),
            "MERCATO_RATE_LIMITS": json.dumps(limits),
            "MERCATO_LOG_LEVEL": "WARNING",
            "MERCATO_EGRESS_ALLOWED_HOSTS": "127.0.0.1",  # the webhook receiver listens there
        }
    )
    _script("start", env)
    try:
        yield Cluster(
            f"http://127.0.0.1:{port}",
            (f"http://127.0.0.1:{api_ports[0]}", f"http://127.0.0.1:{api_ports[1]}"),
            directory,
        )
    finally:
        _script("stop", env)
        assert not (directory / "data" / "pg" / "postmaster.pid").exists()
        assert not list((directory / "run").glob("*.pid"))


def test_nginx_spreads_requests_over_both_api_processes(cluster: Cluster) -> None:
    upstreams = {
        httpx.get(f"{cluster.url}/health").headers["x-mercato-upstream"] for _ in range(10)
    }
    assert upstreams == {url.removeprefix("http://") for url in cluster.api_urls}


def test_a_login_limit_is_one_budget_across_processes(cluster: Cluster) -> None:
    email = f"guessing-{secrets.token_hex(4)}@shop.example"
    statuses = []
    for attempt in range(LOGIN_LIMIT + 2):
        api = cluster.api_urls[attempt % 2]
        response = httpx.post(
            f"{api}/api/v1/auth/login", json={"email": email, "password": "wrong" * 3}
        )
        statuses.append(response.status_code)
    assert statuses == [401] * LOGIN_LIMIT + [429, 429]
    # Another e-mail address from the same client still has its own budget.
    other = httpx.post(
        f"{cluster.api_urls[1]}/api/v1/auth/login",
        json={"email": "someone-else@shop.example", "password": PASSWORD},
    )
    assert other.status_code == 401


def test_key_revocation_and_logout_bite_on_the_other_process(cluster: Cluster) -> None:
    first, second = cluster.api_urls
    merchant = open_merchant(first, "cluster-cache")
    locations = f"{merchant.tenant_path}/locations"
    key_headers = {"X-API-Key": merchant.api_key}
    for api in (first, second):  # both processes have now seen (and cached) the key
        assert httpx.get(f"{api}{locations}", headers=key_headers).status_code == 200
    revoked = httpx.delete(
        f"{first}{merchant.tenant_path}/api-keys/{merchant.api_key_id}", headers=merchant.headers
    )
    assert revoked.status_code == 204, revoked.text
    assert httpx.get(f"{second}{locations}", headers=key_headers).status_code == 401

    assert httpx.get(f"{second}{merchant.tenant_path}", headers=merchant.headers).is_success
    logout = httpx.post(f"{first}/api/v1/auth/logout", headers=merchant.headers)
    assert logout.status_code == 204, logout.text
    after = httpx.get(f"{second}{merchant.tenant_path}", headers=merchant.headers)
    assert after.status_code == 401


def test_each_job_runs_once_with_two_workers(cluster: Cluster) -> None:
    merchant = open_merchant(cluster.url, "cluster-jobs")
    with webhook_receiver() as receiver, httpx.Client(base_url=cluster.url) as http:
        hook = http.post(
            f"{merchant.tenant_path}/webhooks",
            json={"url": receiver.url, "event_types": ["location.created"]},
            headers=merchant.headers,
        )
        assert hook.status_code == 201, hook.text
        for n in range(DELIVERIES):
            created = http.put(
                f"{merchant.tenant_path}/locations/store-{n}",
                json={"name": f"Store {n}"},
                headers=merchant.headers,
            )
            assert created.status_code == 201, created.text
        deadline = time.monotonic() + 60
        while len(receiver.requests) < DELIVERIES and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # room for a duplicate to arrive, if a job ran twice
        deliveries = http.get(
            f"{merchant.tenant_path}/webhooks/{hook.json()['id']}/deliveries",
            params={"limit": 100},
            headers=merchant.headers,
        ).json()["data"]

    ids = [request.delivery_id for request in receiver.requests]
    assert len(ids) == DELIVERIES
    assert len(set(ids)) == DELIVERIES
    assert sorted(d["id"] for d in deliveries) == sorted(ids)
    assert {(d["status"], d["attempts"]) for d in deliveries} == {("succeeded", 1)}
