"""Only platform operators reach the operator API, and the SQL behind it refuses others."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from mercato.settings import get_settings
from tests.factories import create_api_key, create_tenant, signup_and_login, stale_headers
from tests.route_table import api_routes

PLATFORM = "/api/v1/platform"


def _platform_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in api_routes(app.routes):
        if route.path.startswith(PLATFORM):
            path = route.path.replace("{tenant_id}", str(uuid.uuid4()))
            found += [(method, path) for method in sorted(route.methods)]
    return found


async def test_every_operator_route_refuses_everyone_but_operators(app, client, operator) -> None:
    routes = _platform_routes(app)
    assert len(routes) >= 6
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant))["key"]
    wrong = []
    for method, path in routes:
        anonymous = await client.request(method, path)
        staff = await client.request(method, path, headers=owner.headers)
        api_key = await client.request(method, path, headers={"X-API-Key": key})
        if anonymous.status_code != 401:
            wrong.append(f"{method} {path} anonymous: {anonymous.status_code}")
        if staff.status_code != 403 or not staff.json()["type"].endswith(
            "/platform-operator-required"
        ):
            wrong.append(f"{method} {path} staff: {staff.status_code}")
        if api_key.status_code != 403:
            wrong.append(f"{method} {path} api key: {api_key.status_code}")
        allowed = await client.request(method, path, headers=operator.headers)
        if allowed.status_code in (401, 403) or allowed.status_code >= 500:
            wrong.append(f"{method} {path} operator: {allowed.status_code}")
    assert wrong == []


async def test_destructive_operator_routes_need_step_up(client, operator) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    stale = await stale_headers(operator)
    for action in ("suspend", "purge"):
        response = await client.post(f"{PLATFORM}/tenants/{tenant}/{action}", headers=stale)
        assert response.status_code == 401, action
        assert response.json()["type"].endswith("/step-up-required")
    listed = await client.get(f"{PLATFORM}/tenants/{tenant}", headers=stale)
    assert listed.status_code == 200


def _as_app_role(owner_dsn: str, user_id: str) -> psycopg.Connection:
    conn = psycopg.connect(owner_dsn)
    conn.execute(f'SET ROLE "{get_settings().app_role}"')
    conn.execute("SELECT set_config('app.user_id', %s, false)", (user_id,))
    return conn


@pytest.mark.parametrize(
    "call",
    [
        "SELECT * FROM platform_pilot_kpis(now(), now())",
        "SELECT * FROM platform_tenant_usage(ARRAY[gen_random_uuid()], now())",
    ],
)
async def test_cross_tenant_functions_refuse_a_caller_who_is_not_an_operator(
    client, owner_dsn, call
) -> None:
    staff = await signup_and_login(client)
    with (
        _as_app_role(owner_dsn, staff.id) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="only platform operators"),
    ):
        conn.execute(call)


async def test_the_purge_function_refuses_a_live_tenant_whoever_calls_it(
    client, owner_dsn, operator
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    with (
        _as_app_role(owner_dsn, operator.id) as conn,
        pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="30-day"),
    ):
        conn.execute("SELECT * FROM platform_purge_tenant(%s)", (tenant,))


def test_only_the_operator_entry_points_are_executable_by_the_app_and_none_by_public(
    owner_dsn,
) -> None:
    role = get_settings().app_role
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text, p.proname, "
            "has_function_privilege('public', p.oid, 'EXECUTE'), "
            "has_function_privilege(%s, p.oid, 'EXECUTE') "
            "FROM pg_proc p WHERE p.proname LIKE 'platform\\_%%'",
            (role,),
        ).fetchall()
    assert len(rows) >= 13
    assert [signature for signature, _, public, _ in rows if public] == []
    app_callable = sorted(name for _, name, _, app_may in rows if app_may)
    assert app_callable == [
        "platform_enforce_retention",
        "platform_expire_events",
        "platform_pilot_kpis",
        "platform_purge_tenant",
        "platform_tenant_tables",
        "platform_tenant_usage",
    ]
