"""Staff login through an OpenID Connect provider (a local fake that checks PKCE)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mercato.modules.identity import oidc
from mercato.settings import get_settings
from tests.factories import unique_email
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeIdP
from tests.fakes.server import serve


@pytest.fixture
async def idp(monkeypatch):
    provider = FakeIdP()
    async with serve(provider.app()) as base_url:
        provider.issuer = base_url
        configured = get_settings().model_copy(
            update={
                "oidc_issuer": base_url,
                "oidc_client_id": CLIENT_ID,
                "oidc_client_secret": SecretStr(CLIENT_SECRET),
                "oidc_redirect_uri": "http://127.0.0.1:8000/app/oidc/callback",
            }
        )
        monkeypatch.setattr(oidc, "get_settings", lambda: configured)
        oidc._discovery.clear()
        yield provider


async def test_login_with_the_provider_returns_our_token_pair(client, idp) -> None:
    start = await client.get("/api/v1/auth/oidc/login")
    assert start.status_code == 200
    url = start.json()["authorization_url"]
    assert url.startswith(f"{idp.issuer}/authorize?")
    email = unique_email("sso")
    code, state = idp.approve(url, sub="idp-user-1", email=email)
    response = await client.post("/api/v1/auth/oidc/callback", json={"code": code, "state": state})
    assert response.status_code == 200, response.text
    tokens = response.json()
    session = await client.get(
        "/api/v1/auth/session", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert session.json()["user"]["email"] == email
    assert session.json()["user"]["email_verified"] is True
    assert idp.token_requests[-1]["code_verifier"]  # PKCE verifier was sent


async def test_state_is_single_use(client, idp) -> None:
    url = (await client.get("/api/v1/auth/oidc/login")).json()["authorization_url"]
    code, state = idp.approve(url, sub="idp-user-2", email=unique_email("sso"))
    assert (
        await client.post("/api/v1/auth/oidc/callback", json={"code": code, "state": state})
    ).status_code == 200
    replay = await client.post("/api/v1/auth/oidc/callback", json={"code": code, "state": state})
    assert replay.status_code == 400
    assert replay.json()["type"].endswith("/oidc-failed")


async def test_unverified_email_from_the_provider_is_refused(client, idp) -> None:
    url = (await client.get("/api/v1/auth/oidc/login")).json()["authorization_url"]
    code, state = idp.approve(
        url, sub="idp-user-3", email=unique_email("sso"), email_verified=False
    )
    response = await client.post("/api/v1/auth/oidc/callback", json={"code": code, "state": state})
    assert response.status_code == 400


async def test_without_configuration_oidc_is_404(client) -> None:
    response = await client.get("/api/v1/auth/oidc/login")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/oidc-not-configured")


async def test_a_refused_code_exchange_does_not_quote_the_provider(client, idp) -> None:
    url = (await client.get("/api/v1/auth/oidc/login")).json()["authorization_url"]
    _, state = idp.approve(url, sub="idp-user-4", email=unique_email("sso"))
    response = await client.post(
        "/api/v1/auth/oidc/callback", json={"code": "not-the-code", "state": state}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The identity provider's token endpoint answered 400"
    assert "invalid_grant" not in response.text
    assert idp.token_requests[-1]["code"] == "not-the-code"


async def test_the_provider_is_reached_through_egress(client, idp, strict_egress) -> None:
    """On a loopback address and not in MERCATO_EGRESS_ALLOWED_HOSTS: refused like any
    internal address, before anything is sent."""
    response = await client.get("/api/v1/auth/oidc/login")
    assert response.status_code == 400
    assert response.json()["detail"] == ("The identity provider's discovery: could not connect")
