"""Rate limits in Redis: 429 with Retry-After and RateLimit-* headers, shared by processes."""

from __future__ import annotations

import uuid

import pytest

from mercato.kernel.ratelimit import Limit, RateLimiter
from mercato.kernel.redis import create_client, resolve_url, tenant_key
from mercato.modules.identity import limits
from mercato.settings import get_settings
from tests.factories import create_tenant, signup_and_login


@pytest.fixture
def tight_limits(monkeypatch):
    budgets = {
        **{g: Limit.parse("1000000/minute") for g in limits.DEFAULT_LIMITS},
        "login": Limit.parse("10/minute"),
        # Refills slowly enough that a loaded machine cannot earn a write back mid-test.
        "tenant_writes": Limit.parse("5/hour;burst=5"),
    }
    monkeypatch.setattr(limits, "_limits", lambda: budgets)
    return budgets


async def test_login_burst_gets_429_with_headers(client, tight_limits) -> None:
    staff = await signup_and_login(client)  # its login is the first of the ten
    statuses = []
    for _ in range(10):
        response = await client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": "wrong-password-x"}
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 9 + [429]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == "10"
    assert response.headers["ratelimit-remaining"] == "0"
    assert int(response.headers["ratelimit-reset"]) > 0
    # Another address is unaffected.
    other = await client.post(
        "/api/v1/auth/login", json={"email": "someone-else@shop.example", "password": "x" * 12}
    )
    assert other.status_code == 401


async def test_tenant_writes_are_limited_per_tenant(client, tight_limits) -> None:
    owner = await signup_and_login(client)
    tenant, other = await create_tenant(client, owner), await create_tenant(client, owner)
    statuses, remaining = [], []
    for i in range(6):
        response = await client.patch(
            f"/api/v1/tenants/{tenant}", json={"name": f"Shop {i}"}, headers=owner.headers
        )
        statuses.append(response.status_code)
        remaining.append(response.headers.get("ratelimit-remaining"))
    assert statuses == [200] * 5 + [429]
    assert remaining[:5] == ["4", "3", "2", "1", "0"]
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)).status_code == 200
    other_write = await client.patch(
        f"/api/v1/tenants/{other}", json={"name": "Unaffected"}, headers=owner.headers
    )
    assert other_write.status_code == 200


async def test_two_limiters_on_separate_connections_share_one_budget(app) -> None:
    """Like two API processes: each has its own client, the count lives in Redis."""
    url = resolve_url(get_settings())
    first, second = create_client(url), create_client(url)
    key = tenant_key(uuid.uuid4(), "rl", "probe")
    limit = Limit.parse("4/minute")
    try:
        decisions = [
            await RateLimiter(client, fail_open=True).hit(key, limit)
            for client in (first, second, first, second, first)
        ]
    finally:
        await first.aclose()
        await second.aclose()
    assert [d.allowed for d in decisions] == [True, True, True, True, False]


def test_limit_specs_parse_and_reject_nonsense() -> None:
    assert Limit.parse("100/minute;burst=20") == Limit(count=100, period_s=60, burst=20)
    assert Limit.parse("5/second").burst == 5
    with pytest.raises(ValueError, match="rate limit"):
        Limit.parse("lots")
