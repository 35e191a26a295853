"""Access and refresh tokens: forgeries, expiry, rotation, reuse, logout, key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import psycopg
from cryptography.hazmat.primitives import serialization

from mercato.kernel.db import get_database
from tests.factories import signup_and_login, token_with_auth_time


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def _claims_and_header(client, staff) -> tuple[dict, dict]:
    return jwt.decode(
        staff.access_token, options={"verify_signature": False}
    ), jwt.get_unverified_header(staff.access_token)


class TestAccessTokenVerification:
    async def test_claims_and_header_are_complete_and_carry_no_tenant(self, client) -> None:
        staff = await signup_and_login(client)
        claims, header = await _claims_and_header(client, staff)
        assert header["alg"] == "RS256"
        assert header["kid"]
        for claim in ("sub", "jti", "auth_time", "iat", "exp", "iss", "aud"):
            assert claim in claims
        assert claims["exp"] - claims["iat"] == 900
        assert "tenant_id" not in claims

    async def test_jwks_publishes_the_signing_key(self, client) -> None:
        staff = await signup_and_login(client)
        _, header = await _claims_and_header(client, staff)
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert header["kid"] in {key["kid"] for key in jwks["keys"]}
        assert all(key["kty"] == "RSA" and "d" not in key for key in jwks["keys"])

    async def test_hs256_token_signed_with_the_public_key_is_rejected(self, client) -> None:
        staff = await signup_and_login(client)
        claims, header = await _claims_and_header(client, staff)
        jwks = (await client.get("/.well-known/jwks.json")).json()
        jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        public_pem = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk)).public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        signing_input = (
            f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': header['kid']})}.{_b64(claims)}"
        )
        signature = (
            base64.urlsafe_b64encode(
                hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
            )
            .decode()
            .rstrip("=")
        )
        forged = f"{signing_input}.{signature}"
        response = await client.get(
            "/api/v1/auth/session", headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401

    async def test_alg_none_is_rejected(self, client) -> None:
        staff = await signup_and_login(client)
        claims, header = await _claims_and_header(client, staff)
        forged = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{_b64(claims)}."
        response = await client.get(
            "/api/v1/auth/session", headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401

    async def test_tampered_claims_are_rejected(self, client) -> None:
        staff = await signup_and_login(client)
        head, _, signature = staff.access_token.split(".")
        claims, _ = await _claims_and_header(client, staff)
        claims["sub"] = str(uuid.uuid4())
        forged = f"{head}.{_b64(claims)}.{signature}"
        response = await client.get(
            "/api/v1/auth/session", headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401

    async def test_expired_token_is_rejected(self, client) -> None:
        staff = await signup_and_login(client)
        from mercato.modules.identity import tokens

        past = datetime.now(UTC) - timedelta(hours=1)
        original = tokens.ACCESS_TOKEN_TTL
        tokens.ACCESS_TOKEN_TTL = timedelta(seconds=-120)
        try:
            expired = await token_with_auth_time(staff.id, past)
        finally:
            tokens.ACCESS_TOKEN_TTL = original
        response = await client.get(
            "/api/v1/auth/session", headers={"Authorization": f"Bearer {expired}"}
        )
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_garbage_and_missing_credentials_are_401(self, client) -> None:
        assert (await client.get("/api/v1/auth/session")).status_code == 401
        bad = await client.get("/api/v1/auth/session", headers={"Authorization": "Bearer x.y.z"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"] == "Bearer"


class TestRefreshTokens:
    async def test_refresh_rotates_the_pair(self, client) -> None:
        staff = await signup_and_login(client)
        response = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["refresh_token"] != staff.refresh_token
        session = await client.get(
            "/api/v1/auth/session", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert session.status_code == 200

    async def test_refresh_works_from_the_cookie(self, client) -> None:
        staff = await signup_and_login(client)
        client.cookies.set("mercato_refresh", staff.refresh_token, path="/api/v1/auth")
        response = await client.post("/api/v1/auth/refresh")
        client.cookies.clear()
        assert response.status_code == 200

    async def test_reusing_a_rotated_token_revokes_the_whole_family(
        self, client, owner_dsn
    ) -> None:
        staff = await signup_and_login(client)
        first = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token}
        )
        newest = first.json()["refresh_token"]
        reuse = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token}
        )
        assert reuse.status_code == 401
        # The legitimate newest token of the family is dead too.
        after = await client.post("/api/v1/auth/refresh", json={"refresh_token": newest})
        assert after.status_code == 401
        with psycopg.connect(owner_dsn) as conn:
            events = [
                r[0]
                for r in conn.execute(
                    "SELECT event FROM auth_event WHERE user_id = %s", (staff.id,)
                ).fetchall()
            ]
        assert "refresh_token_reuse" in events


class TestLogout:
    async def test_logout_kills_the_access_token_and_its_refresh_family(self, client) -> None:
        staff = await signup_and_login(client)
        response = await client.post("/api/v1/auth/logout", headers=staff.headers)
        assert response.status_code == 204
        assert (await client.get("/api/v1/auth/session", headers=staff.headers)).status_code == 401
        refresh = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token}
        )
        assert refresh.status_code == 401


class TestStepUp:
    async def test_step_up_returns_a_token_with_a_fresh_auth_time(self, client) -> None:
        staff = await signup_and_login(client)
        old = await token_with_auth_time(staff.id, datetime.now(UTC) - timedelta(minutes=30))
        response = await client.post(
            "/api/v1/auth/step-up",
            json={"password": staff.password},
            headers={"Authorization": f"Bearer {old}"},
        )
        assert response.status_code == 200
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert datetime.now(UTC).timestamp() - claims["auth_time"] < 10

    async def test_step_up_with_a_wrong_password_is_401(self, client) -> None:
        staff = await signup_and_login(client)
        response = await client.post(
            "/api/v1/auth/step-up", json={"password": "not-my-password"}, headers=staff.headers
        )
        assert response.status_code == 401


async def test_rotated_keys_keep_verifying_old_tokens(client) -> None:
    from mercato.modules.identity.tokens import rotate_keys

    staff = await signup_and_login(client)
    old_kid = jwt.get_unverified_header(staff.access_token)["kid"]
    async with get_database().session() as session:
        new_kid = await rotate_keys(session)
    assert new_kid != old_kid
    assert (await client.get("/api/v1/auth/session", headers=staff.headers)).status_code == 200
    fresh = await signup_and_login(client)
    assert jwt.get_unverified_header(fresh.access_token)["kid"] == new_kid
    kids = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= kids
