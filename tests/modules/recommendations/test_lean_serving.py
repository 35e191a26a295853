"""A cached recommendation list is answered before FastAPI (kernel.lean), from memory and
one Redis round trip — and every request the lean handler cannot vouch for gets exactly
the answer the ordinary route gives."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from mercato.kernel import listen
from mercato.kernel.db import get_database
from mercato.kernel.redis import get_redis
from mercato.modules.recommendations import fit_tenant
from mercato.modules.recommendations.file_source import FileSource
from tests.factories import create_api_key, create_tenant, signup_and_login
from tests.metrics import scraped

from .catalog_api import stock_the_catalog
from .shop import furniture, returning_shoppers


@contextmanager
def sql_sent() -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    engine = get_database().engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def redis_round_trips() -> Iterator[list[str]]:
    """Every command batch the app's Redis client sends (a pipeline counts once)."""
    redis = get_redis()
    trips: list[str] = []
    original_command, original_pipeline = redis.execute_command, redis.pipeline

    async def command(*args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(str(args[0]))
        return await original_command(*args, **kwargs)

    def pipeline(*args, **kwargs):  # type: ignore[no-untyped-def]
        pipe = original_pipeline(*args, **kwargs)
        run = pipe.execute

        async def execute(*a, **k):  # type: ignore[no-untyped-def]
            trips.append("pipeline:" + ",".join(str(c[0][0]) for c in pipe.command_stack))
            return await run(*a, **k)

        pipe.execute = execute  # type: ignore[method-assign]
        return pipe

    redis.execute_command = command  # type: ignore[method-assign]
    redis.pipeline = pipeline  # type: ignore[method-assign]
    try:
        yield trips
    finally:
        del redis.execute_command
        del redis.pipeline


@pytest.fixture
async def shop(client, tmp_path: Path):
    assert await listen.wait_live()
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    events = tmp_path / "events.jsonl"
    catalog = tmp_path / "catalog.jsonl"
    events.write_text("\n".join(json.dumps(row) for row in returning_shoppers()) + "\n")
    catalog.write_text("\n".join(json.dumps(row) for row in furniture()) + "\n")
    await fit_tenant(uuid.UUID(tenant), FileSource(events, catalog))
    key = (await create_api_key(client, owner, tenant, permission="read"))["key"]
    await listen.barrier()  # the set-up's own changes have been announced
    return owner, tenant, {"X-API-Key": key}


async def test_a_cached_list_costs_one_redis_round_trip_and_no_postgresql(client, shop) -> None:
    _, tenant, headers = shop
    url = f"/api/v1/tenants/{tenant}/recommendations"
    params = {"user_id": "sofas-2", "placement": "home", "limit": "4"}
    computed = await client.get(url, params=params, headers=headers)  # computes and caches
    assert computed.status_code == 200, computed.text
    with sql_sent() as sql, redis_round_trips() as trips:
        cached = await client.get(url, params=params, headers=headers)
    assert cached.status_code == 200
    assert cached.content == computed.content
    assert sql == []
    assert trips == ["pipeline:EVALSHA,MGET"]
    assert cached.headers["content-type"] == "application/json"
    assert int(cached.headers["ratelimit-remaining"]) >= 0
    assert cached.headers["x-request-id"]
    assert cached.headers["x-content-type-options"] == "nosniff"


async def test_a_miss_is_charged_once_and_computed_by_the_route(client, shop) -> None:
    _, tenant, headers = shop
    url = f"/api/v1/tenants/{tenant}/recommendations"
    warm = await client.get(url, params={"user_id": "sofas-2"}, headers=headers)
    assert warm.status_code == 200  # the key is remembered from now on
    with redis_round_trips() as trips:
        first = await client.get(url, params={"user_id": "new-shopper"}, headers=headers)
    assert first.status_code == 200, first.text
    assert trips.count("pipeline:EVALSHA,MGET") == 1
    assert "EVALSHA" not in trips  # the route did not charge the budget again,
    assert "pipeline:MGET" not in trips  # nor look the list up again,
    assert "GET" not in trips  # nor ask which model version is the newest
    assert "SET" in trips  # and cached what it computed


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "0"}, 422),
        ({"limit": "many"}, 422),
        ({"strategy": "psychic"}, 422),
        ({"placement": "has space"}, 422),
        ({"user_id": "x" * 201}, 422),
    ],
)
async def test_invalid_queries_get_the_routes_problem_answer(client, shop, params, status) -> None:
    _, tenant, headers = shop
    response = await client.get(
        f"/api/v1/tenants/{tenant}/recommendations", params=params, headers=headers
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]


async def test_refusals_are_the_routes_even_for_a_cached_list(client, shop) -> None:
    _, tenant, headers = shop
    url = f"/api/v1/tenants/{tenant}/recommendations"
    params = {"user_id": "sofas-2"}
    assert (await client.get(url, params=params, headers=headers)).status_code == 200
    assert (await client.get(url, params=params, headers=headers)).status_code == 200  # cached
    other_owner = await signup_and_login(client)
    other_tenant = await create_tenant(client, other_owner)
    foreign = await client.get(
        f"/api/v1/tenants/{other_tenant}/recommendations", params=params, headers=headers
    )
    assert foreign.status_code == 404
    anonymous = await client.get(url, params=params)
    assert anonymous.status_code == 401
    garbage = await client.get(url, params=params, headers={"X-API-Key": "mk_live_nope"})
    assert garbage.status_code == 401


async def test_an_exhausted_budget_is_429_on_a_cached_list(client, shop, monkeypatch) -> None:
    from mercato.modules.identity import limits
    from mercato.settings import get_settings

    _, tenant, headers = shop
    url = f"/api/v1/tenants/{tenant}/recommendations"
    params = {"user_id": "sofas-2"}
    assert (await client.get(url, params=params, headers=headers)).status_code == 200
    monkeypatch.setitem(get_settings().rate_limits, "personalization", "2/minute;burst=2")
    limits._limits.cache_clear()
    try:
        answers = [
            (await client.get(url, params=params, headers=headers)).status_code for _ in range(4)
        ]
    finally:
        limits._limits.cache_clear()
    assert answers == [200, 200, 429, 429]


async def test_cache_hits_and_misses_are_counted_and_only_misses_timed(client, shop) -> None:
    _, tenant, headers = shop
    url = f"/api/v1/tenants/{tenant}/recommendations"
    params = {"user_id": "sofas-2", "strategy": "trending", "limit": "3"}
    lookups = "mercato_reco_cache_lookups_total"
    timed = "mercato_reco_compute_seconds_count"
    before = (
        await scraped(client, lookups, strategy="trending", result="hit"),
        await scraped(client, lookups, strategy="trending", result="miss"),
        await scraped(client, timed, strategy="trending"),
    )
    assert (await client.get(url, params=params, headers=headers)).status_code == 200  # miss
    assert (await client.get(url, params=params, headers=headers)).status_code == 200  # hit
    after = (
        await scraped(client, lookups, strategy="trending", result="hit"),
        await scraped(client, lookups, strategy="trending", result="miss"),
        await scraped(client, timed, strategy="trending"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
