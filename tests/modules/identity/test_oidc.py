"""Staff login through an OpenID Connect provider (a local fake that checks PKCE)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mercato.modules.identity import oidc
from mercato.settings import get_settings
from tests.factories import PASSWORD, signup_and_login, unique_email
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeIdP
from tests.fakes.server import serve
from tests.mailbox import mailed_token


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


async def _sso_login(client, idp, *, sub: str, email: str):
    url = (await client.get("/api/v1/auth/oidc/login")).json()["authorization_url"]
    code, state = idp.approve(url, sub=sub, email=email)
    return await client.post("/api/v1/auth/oidc/callback", json={"code": code, "state": state})


async def test_first_sso_login_drops_a_squatters_unverified_password(client, idp) -> None:
    """Pre-hijacking: someone signed up with the victim's address and kept the password."""
    email = unique_email("victim")
    squatter = await signup_and_login(client, email=email, name="Squatter")

    response = await _sso_login(client, idp, sub="idp-victim", email=email)

    assert response.status_code == 200, response.text
    session = await client.get(
        "/api/v1/auth/session",
        headers={"Authorization": f"Bearer {response.json()['access_token']}"},
    )
    assert session.json()["user"]["id"] == squatter.id
    assert session.json()["user"]["email_verified"] is True
    by_password = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert by_password.status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": squatter.refresh_token}
    )
    assert refreshed.status_code == 401
    live = await client.get("/api/v1/auth/session", headers=squatter.headers)
    assert live.status_code == 401


async def test_linking_a_verified_account_keeps_its_password_and_ends_old_sessions(
    client, idp
) -> None:
    staff = await signup_and_login(client)
    verified = await client.post(
        "/api/v1/auth/verify-email", json={"token": mailed_token(staff.email, "verify_email")}
    )
    assert verified.status_code == 204

    response = await _sso_login(client, idp, sub="idp-verified", email=staff.email)

    assert response.status_code == 200
    old = await client.post("/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token})
    assert old.status_code == 401
    by_password = await client.post(
        "/api/v1/auth/login", json={"email": staff.email, "password": PASSWORD}
    )
    assert by_password.status_code == 200
