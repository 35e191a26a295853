"""Google OAuth: link with PKCE through the consent page, tokens sealed at rest, refresh
before expiry, revocation noticed, unlink revokes at Google. Against the fake Google."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
import pytest

from mercato.kernel.db import get_database
from mercato.modules.channels.google.credentials import GoogleCredentials
from mercato.modules.channels.google.oauth import (
    BUSINESS_SCOPE,
    MERCHANT_SCOPE,
    GoogleLinkRevoked,
)
from mercato.modules.channels.models import GoogleOAuthLink
from tests.factories import Staff, add_member, create_tenant, signup_and_login, stale_headers
from tests.fakes.google import FakeGoogle


async def start_link(client: httpx.AsyncClient, tenant: str, staff: Staff, **body: str) -> str:
    response = await client.post(
        f"/api/v1/tenants/{tenant}/google/oauth/link", json=body or None, headers=staff.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 600
    return str(response.json()["authorization_url"])


async def consent(google: FakeGoogle, authorization_url: str) -> httpx.URL:
    """Play the merchant's browser at Google: the consent page redirects back with a code."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(authorization_url)
    assert answer.status_code == 302, answer.text
    return httpx.URL(answer.headers["location"])


async def link_tenant(
    client: httpx.AsyncClient, google: FakeGoogle, tenant: str, staff: Staff
) -> httpx.Response:
    back = await consent(google, await start_link(client, tenant, staff))
    return await client.get(back.path, params=dict(back.params))


async def linked_tenant(client: httpx.AsyncClient, google: FakeGoogle) -> tuple[str, Staff]:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await link_tenant(client, google, tenant, owner)
    assert response.status_code == 200, response.text
    return tenant, owner


class TestLink:
    async def test_linking_stores_the_grant_and_reports_the_account(
        self, client, google: FakeGoogle
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        url = await start_link(client, tenant, owner)
        query = parse_qs(urlparse(url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["access_type"] == ["offline"]
        assert {MERCHANT_SCOPE, BUSINESS_SCOPE} <= set(query["scope"][0].split())
        assert query["state"][0].startswith(f"{tenant}.")
        assert query["redirect_uri"] == ["http://127.0.0.1:8000/api/v1/google/oauth/callback"]

        back = await consent(google, url)
        response = await client.get(back.path, params=dict(back.params))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "linked"
        assert response.json()["google_email"] == google.email
        # The exchange proved possession of the PKCE verifier (the fake checks the hash).
        exchange = google.token_requests[-1]
        assert exchange["grant_type"] == "authorization_code"
        assert len(exchange["code_verifier"]) >= 43

        status = await client.get(f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers)
        body = status.json()
        assert body["linked"] is True
        assert body["google_email"] == google.email
        assert MERCHANT_SCOPE in body["scopes"]
        assert body["linked_by"] == f"user:{owner.id}"

    async def test_tokens_are_sealed_at_rest(self, client, google: FakeGoogle, owner_dsn) -> None:
        tenant, _ = await linked_tenant(client, google)
        issued_access = next(t for t in google.access_tokens if t != google.token)
        [issued_refresh] = google.refresh_tokens
        with psycopg.connect(owner_dsn) as conn:
            row = conn.execute(
                "SELECT access_token_sealed, refresh_token_sealed FROM google_oauth_links"
                " WHERE tenant_id = %s",
                (tenant,),
            ).fetchone()
        assert row is not None
        for sealed, token in zip(row, (issued_access, issued_refresh), strict=True):
            assert token.encode() not in bytes(sealed)
            assert bytes(sealed).startswith(b"m1")

    async def test_a_state_is_single_use(self, client, google: FakeGoogle) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        back = await consent(google, await start_link(client, tenant, owner))
        first = await client.get(back.path, params=dict(back.params))
        assert first.status_code == 200
        replay = await client.get(back.path, params=dict(back.params))
        assert replay.status_code == 400
        assert replay.json()["type"].endswith("/google-oauth-failed")

    async def test_a_lured_merchants_grant_never_lands_in_the_starters_tenant(
        self, app, client, google: FakeGoogle
    ) -> None:
        """The attacker starts a link in their tenant and sends the consent URL to a merchant."""
        attacker = await signup_and_login(client)
        attackers_tenant = await create_tenant(client, attacker)
        lure = await start_link(client, attackers_tenant, attacker)
        exchanges = len(google.token_requests)
        back = await consent(google, lure)  # the merchant consents with their Google account
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as victim:
            landed = await victim.get(back.path, params=dict(back.params))
        assert landed.status_code == 400
        assert landed.json()["type"].endswith("/google-oauth-failed")
        assert "another browser" in landed.json()["detail"]
        assert len(google.token_requests) == exchanges  # the merchant's code was never used
        # The state is spent: the attacker's own browser cannot finish it with the code.
        replay = await client.get(back.path, params=dict(back.params))
        assert replay.status_code == 400
        status = await client.get(
            f"/api/v1/tenants/{attackers_tenant}/google/oauth", headers=attacker.headers
        )
        assert status.json()["linked"] is False

    async def test_a_forged_browser_cookie_is_refused(self, client, google: FakeGoogle) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        back = await consent(google, await start_link(client, tenant, owner))
        client.cookies.set(
            "mercato_google_link",
            "guessed",
            domain="testserver.local",
            path="/api/v1/google/oauth/callback",
        )
        refused = await client.get(back.path, params=dict(back.params))
        assert refused.status_code == 400
        status = await client.get(f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers)
        assert status.json()["linked"] is False

    async def test_starting_a_link_needs_step_up(self, client, google: FakeGoogle) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        response = await client.post(
            f"/api/v1/tenants/{tenant}/google/oauth/link", headers=await stale_headers(owner)
        )
        assert response.status_code == 401
        assert response.json()["type"].endswith("step-up-required")
        assert "mercato_google_link" not in response.headers.get("set-cookie", "")

    async def test_a_state_cannot_be_moved_to_another_tenant(
        self, client, google: FakeGoogle
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        other = await create_tenant(client, owner)
        back = await consent(google, await start_link(client, tenant, owner))
        params = dict(back.params)
        params["state"] = params["state"].replace(tenant, other)
        response = await client.get(back.path, params=params)
        assert response.status_code == 400
        linked = await client.get(f"/api/v1/tenants/{other}/google/oauth", headers=owner.headers)
        assert linked.json()["linked"] is False

    async def test_a_refused_consent_links_nothing(self, client, google: FakeGoogle) -> None:
        google.deny_consent = True
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        response = await link_tenant(client, google, tenant, owner)
        assert response.status_code == 400
        assert "access_denied" in response.json()["detail"]

    async def test_the_callback_returns_to_the_dashboard_page_that_asked(
        self, client, google: FakeGoogle
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        url = await start_link(client, tenant, owner, return_to="/app/settings/google")
        back = await consent(google, url)
        response = await client.get(back.path, params=dict(back.params))
        assert response.status_code == 303
        assert response.headers["location"] == (
            "http://127.0.0.1:8000/app/settings/google?google=linked"
        )

    async def test_return_to_must_stay_on_the_dashboard(self, client, google: FakeGoogle) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        for target in ("https://evil.example/", "//evil.example/app/", "/api/v1/x"):
            response = await client.post(
                f"/api/v1/tenants/{tenant}/google/oauth/link",
                json={"return_to": target},
                headers=owner.headers,
            )
            assert response.status_code == 422, target

    async def test_only_admins_link(self, client, google: FakeGoogle) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        response = await client.post(
            f"/api/v1/tenants/{tenant}/google/oauth/link", headers=manager.headers
        )
        assert response.status_code == 403

    async def test_without_a_client_configured_linking_is_a_conflict(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        response = await client.post(
            f"/api/v1/tenants/{tenant}/google/oauth/link", headers=owner.headers
        )
        assert response.status_code == 409
        assert response.json()["type"].endswith("/google-not-configured")


async def _expire_soon(tenant: str) -> None:
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        link = await session.get(GoogleOAuthLink, uuid.UUID(tenant))
        assert link is not None
        link.access_token_expires_at = datetime.now(UTC) + timedelta(minutes=2)


class TestRefresh:
    async def test_a_token_close_to_expiry_is_refreshed_once(
        self, client, google: FakeGoogle
    ) -> None:
        tenant, _ = await linked_tenant(client, google)
        credentials = GoogleCredentials(uuid.UUID(tenant))
        first = await credentials()
        assert await credentials() == first  # fresh: no refresh, no database trip needed
        await _expire_soon(tenant)
        google.expire_access_tokens()
        refreshed = await GoogleCredentials(uuid.UUID(tenant))()
        assert refreshed != first
        assert google.access_tokens[refreshed] > datetime.now(UTC).timestamp()
        assert [r["grant_type"] for r in google.token_requests].count("refresh_token") == 1
        again = await GoogleCredentials(uuid.UUID(tenant))()
        assert again == refreshed  # stored: the next job does not refresh again

    async def test_a_grant_revoked_at_google_marks_the_link_revoked(
        self, client, google: FakeGoogle
    ) -> None:
        tenant, owner = await linked_tenant(client, google)
        google.refresh_tokens.clear()  # the merchant removed Mercato at myaccount.google.com
        await _expire_soon(tenant)
        with pytest.raises(GoogleLinkRevoked):
            await GoogleCredentials(uuid.UUID(tenant))()
        status = await client.get(f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers)
        assert status.json()["status"] == "revoked"
        assert status.json()["linked"] is False
        assert "refused" in status.json()["last_error"]

    async def test_google_being_down_changes_nothing(self, client, google: FakeGoogle) -> None:
        tenant, owner = await linked_tenant(client, google)
        await _expire_soon(tenant)
        google.token_endpoint_down = True
        from mercato.modules.channels.google.oauth import GoogleUnavailable

        with pytest.raises(GoogleUnavailable):
            await GoogleCredentials(uuid.UUID(tenant))()
        status = await client.get(f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers)
        assert status.json()["status"] == "active"


class TestUnlink:
    async def test_unlinking_revokes_at_google_and_forgets_the_tokens(
        self, client, google: FakeGoogle
    ) -> None:
        tenant, owner = await linked_tenant(client, google)
        [refresh_token] = google.refresh_tokens
        response = await client.delete(
            f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers
        )
        assert response.status_code == 204
        assert google.revoked == [refresh_token]
        status = await client.get(f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers)
        assert status.json() == {
            "linked": False,
            "status": None,
            "google_email": None,
            "scopes": [],
            "linked_by": None,
            "linked_at": None,
            "access_token_expires_at": None,
            "last_error": None,
        }
        audit = await client.get(
            f"/api/v1/tenants/{tenant}/audit-logs?action=google.unlinked", headers=owner.headers
        )
        [entry] = audit.json()["data"]
        assert entry["changes"]["revoked_at_google"]["to"] is True

    async def test_unlinking_without_a_link_is_a_conflict(self, client, google) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        response = await client.delete(
            f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers
        )
        assert response.status_code == 409
        assert response.json()["type"].endswith("/google-not-linked")
