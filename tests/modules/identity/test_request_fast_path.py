"""The per-request fast path keeps every refusal.

An API process remembers keys, memberships, tenants' statuses and revoked sessions, and
PostgreSQL tells every process when they change (identity.access). These tests pin both
halves: the memory is really used (no identity query on a remembered caller), and every
change — through the API, in another process, or by hand in SQL — is refused at once or
within the promised 5 seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from sqlalchemy import event

from mercato.kernel import listen
from mercato.kernel.db import get_database
from mercato.modules.identity import access, tokens
from tests.factories import add_member, create_api_key, create_tenant, signup_and_login
from tests.hardening.live import Deployment


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement the application sends while the block runs."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    engine = get_database().engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """How long `check` took to become true; fails the test after `seconds`."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not true within {seconds} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture(autouse=True)
async def notifications_flow(app) -> None:
    assert await listen.wait_live(), "the access listener did not connect"


async def test_a_remembered_key_asks_postgresql_nothing_about_itself(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant, permission="read"))["key"]
    headers = {"X-API-Key": key}
    url = f"/api/v1/tenants/{tenant}"
    await listen.barrier()  # the set-up's own changes have been announced
    with statements() as first:
        assert (await client.get(url, headers=headers)).status_code == 200
    assert any("api_key" in sql for sql in first)  # learnt from the database once
    with statements() as second:
        assert (await client.get(url, headers=headers)).status_code == 200
    assert second == []  # neither the key, its tenant nor a transaction


async def test_a_remembered_member_asks_postgresql_nothing_about_itself(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}"
    await listen.barrier()
    assert (await client.get(url, headers=owner.headers)).status_code == 200
    with statements() as sent:
        assert (await client.get(url, headers=owner.headers)).status_code == 200
    assert not [sql for sql in sent if "membership" in sql or "staff_user" in sql]


async def test_a_revoked_key_is_refused_by_the_very_next_request(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await create_api_key(client, owner, tenant)
    headers = {"X-API-Key": created["key"]}
    url = f"/api/v1/tenants/{tenant}"
    assert (await client.get(url, headers=headers)).status_code == 200
    revoke = await client.delete(f"{url}/api-keys/{created['id']}", headers=owner.headers)
    assert revoke.status_code == 204
    refused = await client.get(url, headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_key_revoked_by_hand_in_sql_is_refused_within_five_seconds(
    client, owner_dsn
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await create_api_key(client, owner, tenant)
    headers = {"X-API-Key": created["key"]}
    url = f"/api/v1/tenants/{tenant}"
    assert (await client.get(url, headers=headers)).status_code == 200
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("UPDATE api_key SET revoked_at = now() WHERE id = %s", (created["id"],))

    async def refused() -> bool:
        return (await client.get(url, headers=headers)).status_code == 401

    assert await within(5, refused) < 1


async def test_other_processes_refuse_a_revoked_key_and_a_logged_out_token(
    client, tmp_path
) -> None:
    """A second API process (a live server) learnt both credentials before the change was
    made through this one; it refuses them within a second."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    member = await add_member(client, owner, tenant, "viewer")
    created = await create_api_key(client, owner, tenant)
    deployment = Deployment.on_suite_database(tmp_path / "other")
    try:
        other = deployment.serve()
        async with httpx.AsyncClient(base_url=other.url) as remote:
            url = f"/api/v1/tenants/{tenant}"
            key_headers = {"X-API-Key": created["key"]}
            assert (await remote.get(url, headers=key_headers)).status_code == 200
            assert (await remote.get(url, headers=member.headers)).status_code == 200

            revoke = await client.delete(f"{url}/api-keys/{created['id']}", headers=owner.headers)
            assert revoke.status_code == 204
            logout = await client.post("/api/v1/auth/logout", headers=member.headers)
            assert logout.status_code == 204

            async def key_refused() -> bool:
                return (await remote.get(url, headers=key_headers)).status_code == 401

            async def token_refused() -> bool:
                return (await remote.get(url, headers=member.headers)).status_code == 401

            assert await within(5, key_refused) < 1
            assert await within(5, token_refused) < 1
    finally:
        deployment.close()


async def test_a_logged_out_session_loses_its_step_up_token_too(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    step_up = await client.post(
        "/api/v1/auth/step-up", json={"password": owner.password}, headers=owner.headers
    )
    assert step_up.status_code == 200, step_up.text
    stepped = {"Authorization": f"Bearer {step_up.json()['access_token']}"}
    url = f"/api/v1/tenants/{tenant}"
    assert (await client.get(url, headers=stepped)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 401
    assert (await client.get(url, headers=stepped)).status_code == 401


async def test_a_membership_deleted_by_hand_hides_the_tenant_and_a_deleted_account_is_401(
    client, owner_dsn
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    member = await add_member(client, owner, tenant, "viewer")
    url = f"/api/v1/tenants/{tenant}"
    assert (await client.get(url, headers=member.headers)).status_code == 200
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM membership WHERE user_id = %s", (member.id,))

    async def hidden() -> bool:
        return (await client.get(url, headers=member.headers)).status_code == 404

    assert await within(5, hidden) < 1
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM auth_event WHERE user_id = %s", (member.id,))
        conn.execute("DELETE FROM staff_user WHERE id = %s", (member.id,))

    async def gone() -> bool:
        return (await client.get(url, headers=member.headers)).status_code == 401

    assert await within(5, gone) < 1
    refused = await client.get(url, headers=member.headers)
    assert "no longer exists" in refused.json()["detail"]


async def test_without_notifications_nothing_remembered_is_trusted(client, owner_dsn) -> None:
    """While the listener is down a change could go unseen, so PostgreSQL answers each time:
    a key revoked by hand meanwhile is refused on the very next request."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await create_api_key(client, owner, tenant)
    headers = {"X-API-Key": created["key"]}
    url = f"/api/v1/tenants/{tenant}"
    assert (await client.get(url, headers=headers)).status_code == 200
    await listen.stop()
    try:
        assert not access.memory.keys.entries  # dropped with the connection
        with psycopg.connect(owner_dsn, autocommit=True) as conn:
            conn.execute("UPDATE api_key SET revoked_at = now() WHERE id = %s", (created["id"],))
        assert (await client.get(url, headers=headers)).status_code == 401
    finally:
        listen.start(get_database().listen_connection)
        assert await listen.wait_live()


async def test_a_remembered_key_still_only_opens_its_own_tenant(client) -> None:
    owner = await signup_and_login(client)
    tenant, other = await create_tenant(client, owner), await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant))["key"]
    headers = {"X-API-Key": key}
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/tenants/{other}", headers=headers)).status_code == 404


async def test_a_member_is_seen_with_the_role_of_their_membership(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    viewer = await add_member(client, owner, tenant, "viewer")
    url = f"/api/v1/tenants/{tenant}"
    assert (await client.get(url, headers=viewer.headers)).status_code == 200
    write = await client.patch(url, json={"name": "renamed"}, headers=viewer.headers)
    assert write.status_code == 403
    promoted = await client.patch(
        f"{url}/members/{viewer.id}", json={"role": "admin"}, headers=owner.headers
    )
    assert promoted.status_code == 200, promoted.text
    renamed = await client.patch(url, json={"name": "renamed"}, headers=viewer.headers)
    assert renamed.status_code == 200, renamed.text


async def test_a_load_that_raced_a_change_is_not_remembered(client) -> None:
    owner = await signup_and_login(client)
    tenant = uuid.UUID(await create_tenant(client, owner))
    await listen.barrier()
    start = access.memory.seq
    assert access.memory.unchanged_since(start, tenant)
    access.memory.apply(f"t:{tenant}")  # as if the tenant changed while it was being read
    assert not access.memory.unchanged_since(start, tenant)
    assert access.memory.unchanged_since(start, uuid.uuid4())  # other tenants unaffected
    access.memory.reset()
    assert not access.memory.unchanged_since(start, uuid.uuid4())


async def test_a_dropped_listener_connection_is_noticed_and_replaced(client, owner_dsn) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}"
    assert (await client.get(url, headers=owner.headers)).status_code == 200
    connected_before = listen.connections()
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'mercato-listen' AND pid <> pg_backend_pid() "
            "AND datname = current_database()"
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1

    async def reconnected() -> bool:
        return listen.connections() > connected_before and listen.is_live()

    await within(15, reconnected)
    assert (await client.get(url, headers=owner.headers)).status_code == 200


async def test_a_logged_out_token_is_refused_while_notifications_are_down(client) -> None:
    """Without the listener nothing remembered is trusted: PostgreSQL (the revoked refresh
    family) decides, so a deny-list outage cannot let a logged-out session back in."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}"
    await listen.stop()
    try:
        assert (await client.get(url, headers=owner.headers)).status_code == 200
        assert (await client.post("/api/v1/auth/logout", headers=owner.headers)).status_code == 204
        assert (await client.get(url, headers=owner.headers)).status_code == 401
    finally:
        listen.start(get_database().listen_connection)
        assert await listen.wait_live()


@pytest.mark.parametrize("ring", ["fresh", "due_for_reload"])
async def test_unknown_signing_keys_cannot_make_the_server_reload_its_key_ring(
    client, ring: str
) -> None:
    """Anyone can send a token naming a key id the server does not know; each one used to
    cost a database session and unsealing every private key, before any rate limit. A
    ring due for its periodic reload is read once, not once more for the unknown key."""
    await signup_and_login(client)  # the ring exists and this process has read it
    if ring == "due_for_reload":
        tokens.invalidate_cache()

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    forged = [
        {
            "Authorization": "Bearer "
            + ".".join(
                [part({"alg": "RS256", "typ": "JWT", "kid": f"forged-{n}"}), part({}), "c2ln"]
            )
        }
        for n in range(25)
    ]
    with statements() as sent:
        answers = [
            (await client.get("/api/v1/auth/session", headers=h)).status_code for h in forged
        ]
    assert set(answers) == {401}
    assert sum("signing_key" in sql for sql in sent) <= 1
