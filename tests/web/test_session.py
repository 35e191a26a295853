"""Dashboard sign-in: the API's tokens in HttpOnly cookies, CSRF on every write, refresh, logout."""

from __future__ import annotations

import re

import httpx
import psycopg
import pytest

from tests.factories import PASSWORD, create_tenant, signup_and_login, unique_email
from tests.mailbox import latest_mail
from tests.web.browser import Dashboard, signed_in


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def _link_token(mail: str, path: str) -> str:
    match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", mail)
    assert match, mail
    return match.group(1)


class TestLogin:
    async def test_signed_out_visitors_are_sent_to_the_login_page(self, client) -> None:
        response = await client.get("/app")
        assert response.status_code == 303
        assert response.headers["location"] == "/app/login?next=/app"
        page = await client.get("/app/login")
        assert page.status_code == 200
        assert '<label for="f-email">' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in page.headers["content-security-policy"]

    async def test_login_keeps_the_api_tokens_in_http_only_cookies(self, client) -> None:
        staff = await signup_and_login(client)
        tenant = await create_tenant(client, staff)
        dashboard = Dashboard(client)
        response = await dashboard.login(staff)
        assert response.status_code == 303
        cookies = _set_cookies(response)
        access, refresh = cookies["mercato_access"], cookies["mercato_refresh"]
        assert "HttpOnly" in access
        assert "Path=/app" in access
        assert "HttpOnly" in refresh
        assert "Path=/api/v1/auth" in refresh
        home = await client.get("/app")
        assert home.headers["location"] == f"/app/t/{tenant}"
        overview = await dashboard.get(f"/app/t/{tenant}")
        assert overview.status_code == 200
        assert staff.email in overview.text

    async def test_the_access_cookie_is_an_api_access_token(self, client) -> None:
        staff = await signup_and_login(client)
        await signed_in(client, staff)
        token = client.cookies.get("mercato_access", path="/app")
        session = await client.get(
            "/api/v1/auth/session", headers={"Authorization": f"Bearer {token}"}
        )
        assert session.status_code == 200
        assert session.json()["user"]["email"] == staff.email

    async def test_a_wrong_password_is_shown_on_the_form(self, client) -> None:
        staff = await signup_and_login(client)
        response = await Dashboard(client).login(staff, password="not-the-password")
        assert response.status_code == 401
        assert "The e-mail address or password is wrong" in response.text
        assert "mercato_access" not in _set_cookies(response)

    async def test_field_problems_appear_next_to_the_field(self, client) -> None:
        response = await Dashboard(client).post(
            "/app/login", {"email": "not-an-address", "password": "x"}
        )
        assert response.status_code == 422
        assert 'id="f-email-error"' in response.text
        assert 'aria-invalid="true"' in response.text

    async def test_next_never_leaves_the_dashboard(self, client) -> None:
        staff = await signup_and_login(client)
        dashboard = Dashboard(client)
        await dashboard.get("/app/login")
        response = await dashboard.post(
            "/app/login",
            {"email": staff.email, "password": PASSWORD, "next": "//evil.example/app"},
        )
        assert response.headers["location"] == "/app"


class TestCsrf:
    async def test_a_form_post_without_the_token_is_refused(self, client) -> None:
        staff = await signup_and_login(client)
        await client.get("/app/login")
        response = await client.post(
            "/app/login", data={"email": staff.email, "password": PASSWORD}
        )
        assert response.status_code == 403
        assert "mercato_access" not in _set_cookies(response)

    async def test_a_wrong_or_forged_token_is_refused(self, client) -> None:
        staff = await signup_and_login(client)
        dashboard = Dashboard(client)
        await dashboard.get("/app/login")
        for token in ("nonsense", dashboard.csrf[:-2] + "xx", "abc.def"):
            response = await client.post(
                "/app/login",
                data={"email": staff.email, "password": PASSWORD, "csrf_token": token},
            )
            assert response.status_code == 403, token

    async def test_a_token_from_another_browser_is_refused(self, client) -> None:
        first = Dashboard(client)
        await first.get("/app/login")
        foreign = first.csrf
        client.cookies.clear()
        await client.get("/app/login")  # this browser gets its own token
        response = await client.post(
            "/app/forgot-password", data={"email": unique_email(), "csrf_token": foreign}
        )
        assert response.status_code == 403

    async def test_a_token_of_another_session_is_refused_even_with_its_cookie(
        self, app, client, owner_dsn
    ) -> None:
        """Cookie tossing: the attacker plants their own CSRF cookie and token in the victim's
        browser (say from a sibling subdomain). Signed for the attacker's session, they fail
        in the victim's."""
        attacker = await signup_and_login(client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            theirs = await signed_in(other, attacker)
            planted = other.cookies.get("mercato_csrf", path="/app")
        assert planted == theirs.csrf
        victim = await signup_and_login(client)
        tenant = await create_tenant(client, victim)
        dashboard = await signed_in(client, victim)
        url = f"/app/t/{tenant}/settings/api-keys"
        await dashboard.get(url)
        client.cookies.set("mercato_csrf", planted, domain="testserver.local", path="/app")
        forged = await client.post(
            url,
            data={"name": "exfil", "kind": "secret", "permission": "read_write"},
            headers={"HX-Request": "true", "X-CSRF-Token": planted},
        )
        assert forged.status_code == 403
        with psycopg.connect(owner_dsn) as conn:
            keys = conn.execute(
                "SELECT count(*) FROM api_key WHERE tenant_id = %s", (tenant,)
            ).fetchone()
        assert keys == (0,)

    async def test_a_new_sign_in_gets_a_new_token(self, client) -> None:
        staff = await signup_and_login(client)
        dashboard = Dashboard(client)
        await dashboard.get("/app/login")
        anonymous = dashboard.csrf
        await dashboard.login(staff)
        assert dashboard.csrf != anonymous

    async def test_htmx_writes_need_the_header(self, client) -> None:
        staff = await signup_and_login(client)
        tenant = await create_tenant(client, staff)
        dashboard = await signed_in(client, staff)
        url = f"/app/t/{tenant}/settings/api-keys"
        await dashboard.get(url)
        refused = await client.post(
            url,
            data={"name": "k", "kind": "secret", "permission": "read"},
            headers={"HX-Request": "true"},
        )
        assert refused.status_code == 403
        assert refused.headers["HX-Retarget"] == "#alerts"
        accepted = await dashboard.post(
            url, {"name": "k", "kind": "secret", "permission": "read"}, htmx=True
        )
        assert accepted.status_code == 200
        assert "mk_live_" in accepted.text


class TestSessionUpkeep:
    async def test_a_refreshed_access_token_is_handed_to_the_cookie(self, client) -> None:
        staff = await signup_and_login(client)
        dashboard = await signed_in(client, staff)
        await dashboard.get("/app/login")
        old = client.cookies.get("mercato_access", path="/app")
        refreshed = await client.post("/api/v1/auth/refresh")  # the refresh cookie travels
        assert refreshed.status_code == 200
        new = refreshed.json()["access_token"]
        refused = await client.post("/app/session/access", json={"access_token": new})
        assert refused.status_code == 403
        stored = await client.post(
            "/app/session/access",
            json={"access_token": new},
            headers={"X-CSRF-Token": dashboard.csrf, "Accept": "application/json"},
        )
        assert stored.status_code == 200
        assert stored.json()["expires_in"] > 800
        assert client.cookies.get("mercato_access", path="/app") == new != old

    async def test_a_lapsed_access_cookie_is_resumed_with_the_pages_token(self, client) -> None:
        staff = await signup_and_login(client)
        dashboard = await signed_in(client, staff)
        page_token = dashboard.csrf
        client.cookies.delete("mercato_access", domain="testserver.local", path="/app")
        refreshed = await client.post("/api/v1/auth/refresh")
        assert refreshed.status_code == 200
        stored = await client.post(
            "/app/session/access",
            json={"access_token": refreshed.json()["access_token"]},
            headers={"X-CSRF-Token": page_token, "Accept": "application/json"},
        )
        assert stored.status_code == 200, stored.text

    async def test_a_forged_token_is_not_stored(self, client) -> None:
        dashboard = Dashboard(client)
        await dashboard.get("/app/login")
        response = await client.post(
            "/app/session/access",
            json={"access_token": "eyJhbGciOiJub25lIn0.e30."},
            headers={"X-CSRF-Token": dashboard.csrf, "Accept": "application/json"},
        )
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_session_status_reports_the_time_left(self, client) -> None:
        staff = await signup_and_login(client)
        await signed_in(client, staff)
        status = await client.get("/app/session", headers={"Accept": "application/json"})
        assert 800 < status.json()["expires_in"] <= 900
        client.cookies.delete("mercato_access", path="/app")
        lapsed = await client.get("/app/session", headers={"Accept": "application/json"})
        assert lapsed.json() == {"expires_in": 0}

    async def test_a_lapsed_access_cookie_offers_to_resume(self, client) -> None:
        staff = await signup_and_login(client)
        await signed_in(client, staff)
        client.cookies.delete("mercato_access", path="/app")
        page = await client.get("/app/login?next=/app")
        assert "data-resume-session" in page.text


class TestLogout:
    async def test_logout_revokes_the_tokens_and_clears_the_cookies(self, client) -> None:
        staff = await signup_and_login(client)
        dashboard = await signed_in(client, staff)
        token = client.cookies.get("mercato_access", path="/app")
        await dashboard.get("/app/login")
        response = await dashboard.post("/app/logout")
        assert response.status_code == 303
        assert response.headers["location"] == "/app/login?signed_out=1"
        cleared = _set_cookies(response)
        assert {"mercato_access", "mercato_refresh", "mercato_signed_in"} <= set(cleared)
        api = await client.get("/api/v1/auth/session", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 401
        client.cookies.set("mercato_access", token, domain="testserver.local", path="/app")
        again = await client.get("/app")
        assert again.status_code == 303
        assert again.headers["location"].startswith("/app/login")


class TestAccountPages:
    async def test_signup_signs_in_and_leads_to_tenant_creation(self, client) -> None:
        dashboard = Dashboard(client)
        await dashboard.get("/app/signup")
        email = unique_email("web")
        response = await dashboard.post(
            "/app/signup", {"name": "Web Person", "email": email, "password": PASSWORD}
        )
        assert response.status_code == 303
        start = await client.get("/app")
        assert start.headers["location"] == "/app/tenants/new"
        await dashboard.get("/app/tenants/new")
        created = await dashboard.post("/app/tenants/new", {"name": "Web Shop", "slug": ""})
        assert created.status_code == 303
        overview = await dashboard.get(created.headers["location"])
        assert "Web Shop" in overview.text
        assert ">owner<" in overview.text

    async def test_weak_passwords_are_explained_by_the_field(self, client) -> None:
        dashboard = Dashboard(client)
        response = await dashboard.post(
            "/app/signup", {"name": "Weak", "email": unique_email(), "password": "short"}
        )
        assert response.status_code == 422
        assert 'id="f-password-error"' in response.text
        assert "short" not in response.text.split('id="f-password"')[1].split(">")[0]

    async def test_the_verification_link_confirms_the_address(self, client, owner_dsn) -> None:
        staff = await signup_and_login(client)
        mail = latest_mail(staff.email, "verify_email")
        token = _link_token(mail, "/app/verify-email")
        dashboard = Dashboard(client)
        page = await dashboard.get(f"/app/verify-email?token={token}")
        assert "Confirm my address" in page.text
        confirmed = await dashboard.post("/app/verify-email", {"token": token})
        assert confirmed.status_code == 200
        assert "Your address is confirmed" in confirmed.text
        again = await dashboard.post("/app/verify-email", {"token": token})
        assert again.status_code == 400
        assert "invalid or has expired" in again.text

    async def test_a_reset_link_sets_a_new_password(self, client, owner_dsn) -> None:
        staff = await signup_and_login(client)
        dashboard = Dashboard(client)
        await dashboard.get("/app/forgot-password")
        sent = await dashboard.post("/app/forgot-password", {"email": staff.email})
        assert "a reset link is on its way" in sent.text
        token = _link_token(latest_mail(staff.email, "reset_password"), "/app/reset-password")
        form = await dashboard.get(f"/app/reset-password?token={token}")
        assert f'value="{token}"' in form.text
        new_password = "a-brand-new-passphrase"
        done = await dashboard.post(
            "/app/reset-password", {"token": token, "password": new_password}
        )
        assert "Your password is changed" in done.text
        assert (await dashboard.login(staff, password=new_password)).status_code == 303


@pytest.mark.parametrize("path", ["/app/t/not-a-uuid", "/app/no-such-page"])
async def test_unknown_pages_are_html_404s(client, path) -> None:
    staff = await signup_and_login(client)
    await signed_in(client, staff)
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
