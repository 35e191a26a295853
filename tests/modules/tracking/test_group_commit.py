"""Group commit: concurrent API requests share commits, yet a 202 means committed and a
failed commit fails each of its requests with a problem+json (never a lost event)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from prometheus_client import REGISTRY

from mercato.kernel.db import get_database
from mercato.modules.tracking.group_commit import group_commit
from tests.factories import create_api_key
from tests.modules.tracking.helpers import new_shop, view


def _sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def _event_ids(owner_dsn: str, tenant_id: str) -> set[str]:
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute("SELECT event_id FROM event WHERE tenant_id = %s", (tenant_id,))
        return {row[0] for row in rows}


@contextmanager
def event_trigger(owner_dsn: str, tenant_id: str, body: str) -> Iterator[None]:
    """Run `body` (PL/pgSQL) before each statement storing the tenant's dedup keys."""
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION test_event_trigger() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"IF current_setting('app.tenant_id', true) = '{tenant_id}' THEN {body}; END IF; "
            "RETURN NULL; END $$"
        )
        conn.execute(
            "CREATE TRIGGER test_event_trigger BEFORE INSERT ON event_key "
            "FOR EACH STATEMENT EXECUTE FUNCTION test_event_trigger()"
        )
    try:
        yield
    finally:
        with psycopg.connect(owner_dsn, autocommit=True) as conn:
            conn.execute("DROP TRIGGER test_event_trigger ON event_key")


def refused_by_postgresql(owner_dsn: str, tenant_id: str):  # type: ignore[no-untyped-def]
    """PostgreSQL refuses to store any event of the tenant."""
    return event_trigger(owner_dsn, tenant_id, "RAISE EXCEPTION 'refused by the test'")


async def test_concurrent_single_events_are_all_committed_in_shared_commits(
    client, owner_dsn
) -> None:
    shop = await new_shop(client)
    url = f"{shop.base}/events"
    warm = await client.post(url, json=view(event_id="warm"), headers=shop.key_headers)
    assert warm.status_code == 202
    commits, requests = (
        _sample("mercato_event_group_commits_total"),
        _sample("mercato_event_group_commit_requests_total"),
    )
    count = 60
    responses = await asyncio.gather(
        *(
            client.post(url, json=view(user=f"u{n}", event_id=f"c-{n}"), headers=shop.key_headers)
            for n in range(count)
        )
    )
    assert [r.status_code for r in responses] == [202] * count
    assert all(r.json() == {"accepted": 1, "duplicates": 0} for r in responses)
    assert _event_ids(owner_dsn, shop.tenant_id) == {"warm"} | {f"c-{n}" for n in range(count)}
    assert _sample("mercato_event_group_commit_requests_total") - requests == count
    shared = _sample("mercato_event_group_commits_total") - commits
    assert 1 <= shared <= count // 2, f"{count} requests took {shared} commits"


async def test_requests_sharing_a_commit_each_get_their_own_accepted_and_duplicates(
    client, owner_dsn
) -> None:
    shop = await new_shop(client)
    url = f"{shop.base}/events"
    responses = await asyncio.gather(
        *(client.post(url, json=view(event_id="same"), headers=shop.key_headers) for _ in range(8))
    )
    answers = sorted((r.json()["accepted"], r.json()["duplicates"]) for r in responses)
    assert answers == [(0, 1)] * 7 + [(1, 0)]
    assert _event_ids(owner_dsn, shop.tenant_id) == {"same"}


async def test_a_failed_commit_fails_each_of_its_requests_and_spares_other_tenants(
    client, owner_dsn
) -> None:
    refused, healthy = await new_shop(client), await new_shop(client)
    for shop in (refused, healthy):  # callers remembered: both take the lean path
        warm = await client.post(
            f"{shop.base}/events", json=view(event_id="warm"), headers=shop.key_headers
        )
        assert warm.status_code == 202

    def send(shop, n: int):  # type: ignore[no-untyped-def]
        if n % 5 == 0:
            body = {"events": [view(event_id=f"b-{n}-{i}") for i in range(3)]}
            return client.post(f"{shop.base}/events/batch", json=body, headers=shop.key_headers)
        return client.post(
            f"{shop.base}/events", json=view(event_id=f"s-{n}"), headers=shop.key_headers
        )

    with refused_by_postgresql(owner_dsn, refused.tenant_id):
        responses = await asyncio.gather(
            *(send(shop, n) for n in range(20) for shop in (refused, healthy))
        )
    failed, stored = responses[0::2], responses[1::2]
    for response in failed:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["retry-after"]
        assert response.json()["status"] == 503
    assert _event_ids(owner_dsn, refused.tenant_id) == {"warm"}  # nothing half-stored
    assert [r.status_code for r in stored] == [202] * 20
    expected = {f"s-{n}" for n in range(20) if n % 5} | {
        f"b-{n}-{i}" for n in range(0, 20, 5) for i in range(3)
    }
    assert _event_ids(owner_dsn, healthy.tenant_id) == {"warm"} | expected
    # Once PostgreSQL takes them again, the refused events are accepted: none was lost.
    retried = await asyncio.gather(*(send(refused, n) for n in range(20)))
    assert [r.status_code for r in retried] == [202] * 20
    assert _event_ids(owner_dsn, refused.tenant_id) == {"warm"} | expected


async def test_requests_waiting_for_their_commit_hold_no_pooled_connection(
    client, owner_dsn
) -> None:
    shop = await new_shop(client)
    url = f"{shop.base}/events"
    # Keys this process has not seen: each request reads PostgreSQL to authenticate (the
    # route's own transaction), which must end before the request waits for its commit.
    keys = [(await create_api_key(client, shop.owner, shop.tenant_id))["key"] for _ in range(12)]
    pool = get_database().engine.pool
    checked_out: list[int] = []

    async def watch() -> None:
        while True:
            checked_out.append(pool.checkedout())  # type: ignore[attr-defined]
            await asyncio.sleep(0.005)

    with event_trigger(owner_dsn, shop.tenant_id, "PERFORM pg_sleep(0.4)"):
        watcher = asyncio.create_task(watch())
        responses = await asyncio.gather(
            *(
                client.post(url, json=view(event_id=f"w-{n}"), headers={"X-API-Key": key})
                for n, key in enumerate(keys)
            )
        )
        watcher.cancel()
    assert [r.status_code for r in responses] == [202] * 12
    # Each commit takes 0.4 s; by the second half every request is long authenticated and
    # waiting: only the group commits' own connections are out.
    assert max(checked_out[len(checked_out) // 2 :]) <= group_commit().writers < 12, checked_out
