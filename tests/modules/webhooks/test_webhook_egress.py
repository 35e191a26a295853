"""Webhooks are a tenant-chosen URL: every delivery goes through egress, and nothing the
endpoint answers is kept beyond its status code."""

from __future__ import annotations

import uuid

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Route

from mercato.kernel import egress
from mercato.kernel.db import get_database
from mercato.kernel.events import emit
from tests.factories import create_tenant, signup_and_login
from tests.fakes.server import free_port, serve
from tests.jobs import run_queued_jobs

SECRET_BODY = "internal-admin-token=" + uuid.uuid4().hex


def _receiver(hits: list[str]) -> Starlette:
    async def hook(request: Request) -> PlainTextResponse:
        hits.append("/hook")
        return PlainTextResponse(SECRET_BODY, status_code=500)

    async def moved(request: Request) -> RedirectResponse:
        hits.append("/moved")
        return RedirectResponse(f"{request.base_url}internal", status_code=307)

    async def internal(request: Request) -> PlainTextResponse:
        hits.append("/internal")
        return PlainTextResponse(SECRET_BODY)

    return Starlette(
        routes=[
            Route("/hook", hook, methods=["POST"]),
            Route("/moved", moved, methods=["POST"]),
            Route("/internal", internal, methods=["GET", "POST"]),
        ]
    )


async def _endpoint(client, url: str) -> tuple[str, dict, object]:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await client.post(
        f"/api/v1/tenants/{tenant}/webhooks", json={"url": url}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    return tenant, created.json(), owner


async def _deliver_one(client, tenant: str, endpoint: dict, owner) -> tuple[dict, str]:
    """One delivery attempt (a retry would wait 30 s, so it is not run here)."""
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        await emit(session, uuid.UUID(tenant), "shop.tested", {"n": 1})
    await run_queued_jobs("default", "webhooks")
    listed = await client.get(
        f"/api/v1/tenants/{tenant}/webhooks/{endpoint['id']}/deliveries", headers=owner.headers
    )
    return listed.json()["data"][0], listed.text


async def test_a_name_resolving_to_an_internal_address_is_never_posted_to(
    client, strict_egress
) -> None:
    """The URL passes the create-time check (a name, not an address); the delivery resolves
    it, finds 127.0.0.1 and refuses, with the same words as any unreachable endpoint."""
    hits: list[str] = []

    async def rebound(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async with serve(_receiver(hits)) as url:
        port = url.rsplit(":", 1)[1]
        with egress.resolver_override(rebound):
            tenant, endpoint, owner = await _endpoint(client, f"http://hooks.shop.test:{port}/hook")
            delivery, _ = await _deliver_one(client, tenant, endpoint, owner)
    assert hits == []
    assert (delivery["last_status_code"], delivery["last_error"]) == (None, "could not connect")


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[64:ff9b:1::a9fe:a9fe]",  # local-use NAT64 of 169.254.169.254
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo (client 127.0.0.1)
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:169.254.169.254]",
        "[fd00:ec2::254]",  # unique local
        "100.100.100.200",  # CGNAT (a metadata service lives here on some clouds)
        "localhost",
    ],
)
async def test_tunnelled_and_mapped_internal_addresses_are_refused_at_create(
    client, strict_egress, host: str
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.post(
        f"/api/v1/tenants/{tenant}/webhooks",
        json={"url": f"http://{host}:8080/hook"},
        headers=owner.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "url"


async def test_a_name_resolving_to_nat64_is_refused_at_delivery(client, strict_egress) -> None:
    async def nat64(host: str, port: int) -> list[str]:
        return ["64:ff9b::7f00:1"]

    with egress.resolver_override(nat64):
        tenant, endpoint, owner = await _endpoint(client, f"http://v6.shop.test:{free_port()}/h")
        delivery, _ = await _deliver_one(client, tenant, endpoint, owner)
    assert (delivery["status"], delivery["last_error"]) == ("pending", "could not connect")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/hook", 500),  # an error page full of internal data
        ("/moved", 307),  # a redirect towards /internal: a failed delivery, not followed
    ],
)
async def test_only_the_status_of_the_endpoints_answer_is_kept(
    client, path: str, status: int
) -> None:
    hits: list[str] = []
    async with serve(_receiver(hits)) as url:
        tenant, endpoint, owner = await _endpoint(client, f"{url}{path}")
        delivery, listing = await _deliver_one(client, tenant, endpoint, owner)
    assert hits == [path]
    assert (delivery["last_status_code"], delivery["last_error"]) == (
        status,
        f"the endpoint answered HTTP {status}",
    )
    assert SECRET_BODY not in listing
