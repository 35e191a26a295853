"""Publishable keys bring their own CORS origins, without any deployment setting (issue 22).

A storefront calls the API from the origins listed on its publishable key: the preflight
(which carries no key) is answered for the tenant in the path, the actual request for its
own key. Never with credentials; never for a secret key; not once the key is revoked or
the origin removed. The application under test has no `MERCATO_CORS_ORIGINS`.
"""

from __future__ import annotations

import httpx
import psycopg

from mercato.modules.identity import access
from tests.factories import Staff, create_api_key, create_tenant, signup_and_login
from tests.modules.identity.test_request_fast_path import statements, within

SHOP = "https://shop.example.com"
OTHER_SHOP = "https://other-shop.example.com"
EVIL = "https://evil.example"


async def _storefront(
    client: httpx.AsyncClient, kind: str = "publishable"
) -> tuple[Staff, str, dict[str, object]]:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    key = await create_api_key(
        client, owner, tenant, kind=kind, permission="read_write", allowed_origins=[SHOP]
    )
    return owner, tenant, key


def _url(tenant: str) -> str:
    return f"/api/v1/tenants/{tenant}/recommendations?placement=home"


async def _preflight(client: httpx.AsyncClient, tenant: str, origin: str) -> httpx.Response:
    return await client.options(
        _url(tenant),
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )


async def _call(
    client: httpx.AsyncClient, tenant: str, key: dict[str, object], origin: str
) -> httpx.Response:
    return await client.get(_url(tenant), headers={"X-API-Key": str(key["key"]), "Origin": origin})


def _allowed(response: httpx.Response, origin: str) -> bool:
    return response.headers.get("access-control-allow-origin") == origin


class TestListedOrigin:
    async def test_the_preflight_is_allowed_without_credentials(self, client) -> None:
        _, tenant, _ = await _storefront(client)
        response = await _preflight(client, tenant, SHOP)
        assert response.status_code == 200
        assert _allowed(response, SHOP)
        assert response.headers["access-control-allow-headers"] == "x-api-key"
        assert "GET" in response.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in response.headers
        assert "Origin" in response.headers["vary"]

    async def test_the_actual_request_is_readable_without_credentials(self, client) -> None:
        _, tenant, key = await _storefront(client)
        response = await _call(client, tenant, key, SHOP)
        assert response.status_code < 500
        assert _allowed(response, SHOP)
        assert "access-control-allow-credentials" not in response.headers
        assert "Origin" in response.headers["vary"]
        assert "X-Request-ID" in response.headers["access-control-expose-headers"]


class TestOtherOrigins:
    async def test_another_origins_preflight_gets_no_cors(self, client) -> None:
        _, tenant, _ = await _storefront(client)
        response = await _preflight(client, tenant, EVIL)
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-credentials" not in response.headers

    async def test_another_origins_request_gets_no_cors(self, client) -> None:
        _, tenant, key = await _storefront(client)
        response = await _call(client, tenant, key, EVIL)
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers
        assert "Origin" in response.headers["vary"]

    async def test_a_key_answers_only_for_its_own_origins(self, client) -> None:
        """The tenant's union answers the preflight; the request is its key's alone."""
        owner, tenant, narrow = await _storefront(client)
        await create_api_key(
            client, owner, tenant, kind="publishable", allowed_origins=[OTHER_SHOP]
        )
        assert _allowed(await _preflight(client, tenant, OTHER_SHOP), OTHER_SHOP)
        response = await _call(client, tenant, narrow, OTHER_SHOP)
        assert "access-control-allow-origin" not in response.headers

    async def test_another_tenants_path_gets_no_cors(self, client) -> None:
        owner, _, key = await _storefront(client)
        elsewhere = await create_tenant(client, owner)
        assert (
            "access-control-allow-origin" not in (await _preflight(client, elsewhere, SHOP)).headers
        )
        assert (
            "access-control-allow-origin" not in (await _call(client, elsewhere, key, SHOP)).headers
        )


class TestSecretKeys:
    async def test_a_secret_key_never_brings_origins(self, client) -> None:
        _, tenant, key = await _storefront(client, kind="secret")
        assert "access-control-allow-origin" not in (await _preflight(client, tenant, SHOP)).headers
        response = await _call(client, tenant, key, SHOP)
        assert "access-control-allow-origin" not in response.headers


class TestChanges:
    async def test_a_revoked_key_stops_its_origins_at_once(self, client) -> None:
        owner, tenant, key = await _storefront(client)
        assert _allowed(await _preflight(client, tenant, SHOP), SHOP)
        assert _allowed(await _call(client, tenant, key, SHOP), SHOP)

        revoked = await client.delete(
            f"/api/v1/tenants/{tenant}/api-keys/{key['id']}", headers=owner.headers
        )
        assert revoked.status_code == 204

        assert not _allowed(await _preflight(client, tenant, SHOP), SHOP)
        assert not _allowed(await _call(client, tenant, key, SHOP), SHOP)

    async def test_an_origin_removed_in_the_database_stops_within_seconds(
        self, client, owner_dsn
    ) -> None:
        """Whoever changes the key (here an operator's psql), the notification reaches the
        remembered origins of its tenant."""
        _, tenant, key = await _storefront(client)
        assert _allowed(await _preflight(client, tenant, SHOP), SHOP)
        assert _allowed(await _call(client, tenant, key, SHOP), SHOP)
        with psycopg.connect(owner_dsn, autocommit=True) as conn:
            conn.execute(
                "UPDATE api_key SET allowed_origins = %s WHERE id = %s",
                ([OTHER_SHOP], key["id"]),
            )

        async def stopped() -> bool:
            preflight = await _preflight(client, tenant, SHOP)
            actual = await _call(client, tenant, key, SHOP)
            return not _allowed(preflight, SHOP) and not _allowed(actual, SHOP)

        assert await within(5, stopped) < 5
        assert _allowed(await _preflight(client, tenant, OTHER_SHOP), OTHER_SHOP)

    async def test_a_repeated_preflight_is_answered_from_memory(self, client) -> None:
        _, tenant, _ = await _storefront(client)
        assert _allowed(await _preflight(client, tenant, SHOP), SHOP)
        assert access.memory.usable()
        with statements() as sent:
            assert _allowed(await _preflight(client, tenant, SHOP), SHOP)
        assert sent == []
