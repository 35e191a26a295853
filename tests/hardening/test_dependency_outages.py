"""Redis and PostgreSQL outages under load, on a deployment with its own servers.

- Redis down: everything that lives in PostgreSQL keeps answering (login, tenant reads,
  webhook and location writes, API keys), `/ready` names Redis, rate limits fail open or
  closed per `MERCATO_RATE_LIMIT_FAIL_OPEN`, and service comes back without a restart.
- PostgreSQL restarted: requests fail fast with 503 problem+json, never a 500 and never a
  hang, and the connection pool recovers by itself.
In both, every write the server acknowledged is in the database afterwards.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.hardening.conftest import acknowledged_writes_missing, unexpected_answers
from tests.hardening.live import Deployment
from tests.hardening.load import LoadGenerator, Outcome
from tests.hardening.merchant import open_merchant

pytestmark = pytest.mark.slow

OUTAGE_S = 4.0


def _wait_until(predicate, timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout_s}s")


def _ready(url: str) -> httpx.Response:
    return httpx.get(f"{url}/ready", timeout=10)


def _served(outcomes: list[Outcome], operation: str) -> int:
    return sum(1 for o in outcomes if o.operation == operation and o.status in (200, 201))


def test_redis_outage_keeps_postgres_paths_serving_and_recovers(
    deployment: Deployment,
) -> None:
    fail_open = deployment.serve("api-fail-open")
    fail_closed = deployment.serve("api-fail-closed", rate_limit_fail_open="false")
    merchant = open_merchant(fail_open.url, "redis-outage")
    spare = httpx.post(
        f"{fail_open.url}{merchant.tenant_path}/api-keys",
        json={"name": "revoked in the outage", "kind": "secret", "permission": "read"},
        headers=merchant.headers,
        timeout=10,
    )
    assert spare.status_code == 201, spare.text
    spare_headers = {"X-API-Key": spare.json()["key"]}
    used = httpx.get(f"{fail_open.url}{merchant.tenant_path}", headers=spare_headers, timeout=10)
    assert used.status_code == 200  # the process remembers the key from now on

    with LoadGenerator(merchant, max_seconds=90) as load:
        time.sleep(1.5)
        deployment.stop_redis()
        outage_started = time.monotonic()
        try:
            _wait_until(lambda: _ready(fail_open.url).status_code == 503, 10, "/ready failing")
            readiness = _ready(fail_open.url).json()
            assert readiness["failing"] == ["redis"], readiness
            assert readiness["checks"] == {"postgres": "ok", "redis": "failed"}

            refused = httpx.get(
                f"{fail_closed.url}{merchant.tenant_path}", headers=merchant.headers, timeout=10
            )
            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.headers["retry-after"]
            # Revocation travels through PostgreSQL, so it needs no Redis and bites at once.
            revoke = httpx.delete(
                f"{fail_open.url}{merchant.tenant_path}/api-keys/{spare.json()['id']}",
                headers=merchant.headers,
                timeout=10,
            )
            assert revoke.status_code == 204, revoke.text
            revoked = httpx.get(
                f"{fail_open.url}{merchant.tenant_path}", headers=spare_headers, timeout=10
            )
            assert revoked.status_code == 401, revoked.text
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_started)))
        finally:
            deployment.start_redis()
        outage_ended = time.monotonic()
        recovery_s = _wait_until(
            lambda: _ready(fail_open.url).status_code == 200, 30, "/ready recovering"
        )
        time.sleep(1.5)

    during = [o for o in load.outcomes if outage_started + 0.5 <= o.started_at < outage_ended]
    after = load.since(outage_ended + recovery_s)
    assert during
    assert after
    assert unexpected_answers(load.outcomes, {200, 201}) == []
    for operation in ("log_in", "read_tenant", "put_location", "create_webhook"):
        assert _served(during, operation) > 0, f"{operation} was not served without Redis"
    assert _served(during, "list_locations_with_key") > 0, "API keys were not served"
    assert acknowledged_writes_missing(deployment, load.outcomes) == []

    # The fail-closed process limits again once Redis is back, without a restart.
    back = httpx.get(f"{fail_closed.url}{merchant.tenant_path}", headers=merchant.headers)
    assert back.status_code == 200, back.text
    assert back.headers["ratelimit-limit"]


def test_postgres_restart_fails_fast_with_503_and_the_pool_recovers(
    deployment: Deployment,
) -> None:
    server = deployment.serve("api-postgres-restart")
    merchant = open_merchant(server.url, "postgres-restart")

    with LoadGenerator(merchant, max_seconds=90) as load:
        time.sleep(1.5)
        deployment.stop_postgres()
        outage_started = time.monotonic()
        try:
            time.sleep(OUTAGE_S)
            readiness = _ready(server.url)
            assert readiness.status_code == 503
            assert readiness.json()["failing"] == ["postgres"]
        finally:
            deployment.resume_postgres()
        outage_ended = time.monotonic()
        recovery_s = _wait_until(
            lambda: _ready(server.url).status_code == 200, 30, "/ready recovering"
        )
        time.sleep(2)

    during = [o for o in load.outcomes if outage_started + 0.5 <= o.started_at < outage_ended]
    after = load.since(outage_ended + recovery_s + 0.5)
    assert len(during) >= 10
    assert len(after) >= 10
    assert unexpected_answers(load.outcomes, {200, 201, 503}) == []
    unavailable = [o for o in load.outcomes if o.status == 503]
    assert unavailable, "the outage produced no 503"
    assert {str(o.problem["type"]) for o in unavailable if o.problem} == {
        "https://mercato.dev/problems/database-unavailable"
    }
    assert all(o.status in (200, 201) for o in after), [o.status for o in after]
    slowest = max(o.elapsed_s for o in during)
    assert slowest < 10, f"a request hung for {slowest:.1f}s during the outage"
    assert acknowledged_writes_missing(deployment, load.outcomes) == []
