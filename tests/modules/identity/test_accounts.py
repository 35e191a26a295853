"""Staff accounts over HTTP: sign-up, login, verification, password reset."""

from __future__ import annotations

import psycopg
import pytest

from tests.factories import PASSWORD, signup_and_login, unique_email
from tests.mailbox import mailed_token


class TestSignup:
    async def test_signup_returns_the_user(self, client) -> None:
        email = unique_email()
        response = await client.post(
            "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": "Ada"}
        )
        assert response.status_code == 201
        user = response.json()["user"]
        assert user["email"] == email
        assert user["name"] == "Ada"
        assert "id" in user
        assert "password" not in response.text

    async def test_existing_email_is_a_conflict_whatever_its_case(self, client) -> None:
        staff = await signup_and_login(client)
        response = await client.post(
            "/api/v1/auth/signup",
            json={"email": staff.email.upper(), "password": PASSWORD, "name": "Again"},
        )
        assert response.status_code == 409

    @pytest.mark.parametrize(
        ("password", "reason"),
        [("short", "at least 10"), ("password123", "commonly used"), ("aaaaaaaaaaaa", "different")],
    )
    async def test_weak_passwords_are_422_with_the_field(self, client, password, reason) -> None:
        response = await client.post(
            "/api/v1/auth/signup",
            json={"email": unique_email(), "password": password, "name": "Weak"},
        )
        assert response.status_code == 422
        body = response.json()
        assert body["errors"][0]["field"] == "password"
        assert reason in body["detail"]

    async def test_bad_email_is_422(self, client) -> None:
        response = await client.post(
            "/api/v1/auth/signup", json={"email": "not-an-email", "password": PASSWORD, "name": "X"}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "email"


class TestLogin:
    async def test_login_returns_a_token_pair_and_a_refresh_cookie(self, client) -> None:
        staff = await signup_and_login(client)
        response = await client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": PASSWORD}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        assert body["access_token"].count(".") == 2
        cookie = response.headers["set-cookie"]
        assert f"mercato_refresh={body['refresh_token']}" in cookie
        assert "HttpOnly" in cookie
        assert "Path=/api/v1/auth" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" not in cookie  # development mode

    async def test_unknown_email_and_wrong_password_answer_alike(self, client) -> None:
        staff = await signup_and_login(client)
        wrong = await client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": "wrong-password-1"}
        )
        unknown = await client.post(
            "/api/v1/auth/login", json={"email": unique_email(), "password": "wrong-password-1"}
        )
        assert wrong.status_code == unknown.status_code == 401
        strip = {"request_id", "instance"}
        assert {k: v for k, v in wrong.json().items() if k not in strip} == {
            k: v for k, v in unknown.json().items() if k not in strip
        }

    async def test_failed_logins_are_recorded_although_refused(self, client, owner_dsn) -> None:
        staff = await signup_and_login(client)
        await client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": "nope-nope-1"}
        )
        with psycopg.connect(owner_dsn) as conn:
            events = conn.execute(
                "SELECT event FROM auth_event WHERE user_id = %s ORDER BY created_at", (staff.id,)
            ).fetchall()
        assert [e[0] for e in events] == ["signup", "login", "login_failed"]

    async def test_unverified_email_is_403_when_verification_is_required(
        self, client, monkeypatch
    ) -> None:
        staff = await signup_and_login(client)
        from mercato.modules.identity import accounts
        from mercato.settings import get_settings

        strict = get_settings().model_copy(update={"require_email_verification": True})
        monkeypatch.setattr(accounts, "get_settings", lambda: strict)
        response = await client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": PASSWORD}
        )
        assert response.status_code == 403
        assert response.json()["type"].endswith("/email-not-verified")

    async def test_session_describes_the_user_and_memberships(self, client) -> None:
        staff = await signup_and_login(client)
        response = await client.get("/api/v1/auth/session", headers=staff.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["user"]["email"] == staff.email
        assert body["memberships"] == []
        assert "auth_time" in body


class TestVerificationAndReset:
    async def test_verification_link_marks_the_address_verified(self, client, owner_dsn) -> None:
        staff = await signup_and_login(client)
        token = mailed_token(staff.email, "verify_email")
        assert (
            await client.post("/api/v1/auth/verify-email", json={"token": token})
        ).status_code == 204
        session = await client.get("/api/v1/auth/session", headers=staff.headers)
        assert session.json()["user"]["email_verified"] is True
        again = await client.post("/api/v1/auth/verify-email", json={"token": token})
        assert again.status_code == 400  # single use

    async def test_forgot_password_is_202_for_unknown_addresses_too(self, client) -> None:
        response = await client.post(
            "/api/v1/auth/forgot-password", json={"email": unique_email("nobody")}
        )
        assert response.status_code == 202

    async def test_reset_sets_the_password_and_signs_out_everywhere(
        self, client, owner_dsn
    ) -> None:
        staff = await signup_and_login(client)
        assert (
            await client.post("/api/v1/auth/forgot-password", json={"email": staff.email})
        ).status_code == 202
        token = mailed_token(staff.email, "reset_password")
        weak = await client.post(
            "/api/v1/auth/reset-password", json={"token": token, "password": "short"}
        )
        assert weak.status_code == 422
        reset = await client.post(
            "/api/v1/auth/reset-password",
            json={"token": token, "password": "a-brand-new-passphrase"},
        )
        assert reset.status_code == 204
        old = await client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": PASSWORD}
        )
        assert old.status_code == 401
        new = await client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": "a-brand-new-passphrase"}
        )
        assert new.status_code == 200
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token}
        )
        assert refreshed.status_code == 401
        # Every live access token of every session ends too, not only the refresh tokens.
        session = await client.get("/api/v1/auth/session", headers=staff.headers)
        assert session.status_code == 401
