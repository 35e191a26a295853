"""Table-driven access checks over every tenant route of the running application.

- another tenant's credentials get 404 on every route, and no trace of the tenant;
- each role gets 403 exactly on the routes whose permission the role lacks;
- each API key kind likewise.
"""

from __future__ import annotations

import pytest

from mercato.modules.identity.permissions import KEY_PERMISSIONS, ROLE_PERMISSIONS, Role
from tests.factories import (
    add_member,
    create_api_key,
    create_tenant,
    signup_and_login,
    stale_headers,
)
from tests.route_table import tenant_routes


async def _call(client, route, tenant_id: str, headers: dict[str, str]):
    return await client.request(route.method, route.url(tenant_id), headers=headers, json=None)


async def test_every_tenant_route_declares_a_permission(app) -> None:
    routes = tenant_routes(app)
    assert len(routes) >= 10
    assert [str(r) for r in routes if r.permission is None] == []


async def test_another_tenants_credentials_get_404_everywhere(app, client) -> None:
    owner_a, owner_b = await signup_and_login(client), await signup_and_login(client)
    tenant_a = await create_tenant(client, owner_a)
    secret_name = "Hidden Bakery Of Tenant B"
    tenant_b = await create_tenant(client, owner_b, name=secret_name)
    key_a = (await create_api_key(client, owner_a, tenant_a))["key"]
    failures = []
    for route in tenant_routes(app):
        for label, headers in (("token", owner_a.headers), ("key", {"X-API-Key": key_a})):
            response = await _call(client, route, tenant_b, headers)
            if response.status_code != 404 or secret_name in response.text:
                failures.append(f"{route} with {label}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("role", list(Role))
async def test_roles_get_403_exactly_where_they_lack_the_permission(app, client, role) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    member = owner if role is Role.owner else await add_member(client, owner, tenant, role.value)
    headers = await stale_headers(member)  # no step-up, so sensitive routes cannot run
    allowed = ROLE_PERMISSIONS[role]
    wrong = []
    for route in tenant_routes(app):
        response = await _call(client, route, tenant, headers)
        denied = response.status_code == 403
        if denied == (route.permission in allowed):
            wrong.append(f"{route} ({route.permission}): {response.status_code}")
        if denied:
            assert response.json()["type"].endswith("/permission-denied")
    assert wrong == []


@pytest.mark.parametrize(("kind", "permission"), list(KEY_PERMISSIONS))
async def test_api_keys_get_403_exactly_where_their_kind_lacks_permission(
    app, client, kind, permission
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    origin = "https://shop.example"
    created = await create_api_key(
        client,
        owner,
        tenant,
        kind=kind,
        permission=permission,
        allowed_origins=[origin] if kind == "publishable" else None,
    )
    headers = {"X-API-Key": created["key"], "Origin": origin}
    allowed = KEY_PERMISSIONS[(kind, permission)]
    wrong = []
    for route in tenant_routes(app):
        response = await _call(client, route, tenant, headers)
        if (response.status_code == 403) == (route.permission in allowed):
            wrong.append(f"{route} ({route.permission}): {response.status_code}")
    assert wrong == []
