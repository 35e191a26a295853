"""A merchant on a live server: an owner account, its tenant and a secret API key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

from tests.factories import PASSWORD


@dataclass(frozen=True)
class Merchant:
    base_url: str
    email: str
    token: str
    tenant_id: str
    api_key: str
    api_key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def tenant_path(self) -> str:
        return f"/api/v1/tenants/{self.tenant_id}"


def _ok(response: httpx.Response, status: int) -> dict[str, object]:
    if response.status_code != status:
        raise AssertionError(f"{response.request.url}: {response.status_code} {response.text}")
    body: dict[str, object] = response.json()
    return body


def open_merchant(base_url: str, label: str = "merchant") -> Merchant:
    """Sign up, log in, create a tenant and a read_write secret key through the API."""
    email = f"{label}-{secrets.token_hex(5)}@shop.example"
    with httpx.Client(base_url=base_url, timeout=30) as http:
        _ok(
            http.post(
                "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": label}
            ),
            201,
        )
        tokens = _ok(
            http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 200
        )
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        tenant = _ok(
            http.post("/api/v1/tenants", json={"name": f"{label} shop"}, headers=headers), 201
        )
        key = _ok(
            http.post(
                f"/api/v1/tenants/{tenant['id']}/api-keys",
                json={"name": "fault tests", "kind": "secret", "permission": "read_write"},
                headers=headers,
            ),
            201,
        )
    token, tenant_id = str(tokens["access_token"]), str(tenant["id"])
    return Merchant(base_url, email, token, tenant_id, str(key["key"]), str(key["id"]))
