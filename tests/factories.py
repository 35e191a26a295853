"""Builders for test data, through the public API where that is what is being tested."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.mailbox import mailed_token

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Staff:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(label: str = "staff") -> str:
    return f"{label}-{secrets.token_hex(5)}@shop.example"


async def signup_and_login(
    client: httpx.AsyncClient, *, email: str | None = None, name: str = "Test Person"
) -> Staff:
    email = email or unique_email()
    created = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert created.status_code == 201, created.text
    tokens = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return Staff(
        created.json()["user"]["id"], email, PASSWORD, body["access_token"], body["refresh_token"]
    )


async def create_tenant(client: httpx.AsyncClient, owner: Staff, name: str | None = None) -> str:
    response = await client.post(
        "/api/v1/tenants",
        json={"name": name or f"Shop {secrets.token_hex(3)}"},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def invite(
    client: httpx.AsyncClient, owner: Staff, tenant_id: str, email: str, role: str = "viewer"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/tenants/{tenant_id}/members",
        json={"email": email, "role": role},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    invited: dict[str, Any] = response.json()
    return invited


async def invite_and_accept(
    client: httpx.AsyncClient,
    owner: Staff,
    tenant_id: str,
    role: str,
    *,
    email: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Invite an address and accept from its mailbox (creating the account if it has none)."""
    email = email or unique_email(role)
    await invite(client, owner, tenant_id, email, role)
    accepted = await client.post(
        "/api/v1/auth/accept-invitation",
        json={
            "token": mailed_token(email, "member_invited"),
            "name": name or f"{role} person",
            "password": PASSWORD,
        },
    )
    assert accepted.status_code == 200, accepted.text
    joined: dict[str, Any] = accepted.json()
    return joined


async def add_member(client: httpx.AsyncClient, owner: Staff, tenant_id: str, role: str) -> Staff:
    """A new member of `role`, joined through the invitation flow, and logged in."""
    email = unique_email(role)
    await invite_and_accept(client, owner, tenant_id, role, email=email)
    return await login(client, email)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Staff:
    tokens = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    me = await client.get(
        "/api/v1/auth/session", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    return Staff(
        me.json()["user"]["id"], email, password, body["access_token"], body["refresh_token"]
    )


async def token_with_auth_time(
    user_id: str, auth_time: datetime, session_id: uuid.UUID | None = None
) -> str:
    """A genuinely signed access token whose `auth_time` is whatever the test needs."""
    from mercato.modules.identity.tokens import issue_access_token

    token, _ = await issue_access_token(
        user_id=uuid.UUID(user_id), auth_time=auth_time, session_id=session_id or uuid.uuid4()
    )
    return token


async def stale_headers(staff: Staff) -> dict[str, str]:
    """Headers whose token was authenticated ten minutes ago (no step-up)."""
    token = await token_with_auth_time(staff.id, datetime.now(UTC) - timedelta(minutes=10))
    return {"Authorization": f"Bearer {token}"}


async def create_api_key(
    client: httpx.AsyncClient,
    owner: Staff,
    tenant_id: str,
    *,
    kind: str = "secret",
    permission: str = "read_write",
    allowed_origins: list[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "test key", "kind": kind, "permission": permission}
    if allowed_origins is not None:
        body["allowed_origins"] = allowed_origins
    response = await client.post(
        f"/api/v1/tenants/{tenant_id}/api-keys", json=body, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
