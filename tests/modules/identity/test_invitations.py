"""Account pre-hijacking (issue 17, finding 2): only the invited mailbox's owner joins.

The attack: sign up as `victim@corp` without verifying, wait for an admin to add that
address to a tenant, then log in with the password you chose. Every add is now an
invitation whose link goes to the mailbox; the squatter's account never joins, and the
mailbox's owner reclaims it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from mercato.settings import Settings
from tests.factories import (
    PASSWORD,
    create_tenant,
    invite_and_accept,
    login,
    signup_and_login,
    unique_email,
)
from tests.mailbox import latest_mail, mailed_token

VICTIM_PASSWORD = "the-victims-own-passphrase"


async def _invite(client, owner, tenant: str, email: str, role: str = "admin"):
    return await client.post(
        f"/api/v1/tenants/{tenant}/members",
        json={"email": email, "role": role},
        headers=owner.headers,
    )


async def _accept(client, token: str, **fields: str):
    return await client.post("/api/v1/auth/accept-invitation", json={"token": token, **fields})


def _memberships(owner_dsn: str, email: str) -> list[tuple[str, str]]:
    with psycopg.connect(owner_dsn) as conn:
        return [
            (str(tenant), role)
            for tenant, role in conn.execute(
                "SELECT m.tenant_id, m.role FROM membership m JOIN staff_user u "
                "ON u.id = m.user_id WHERE lower(u.email) = lower(%s)",
                (email,),
            )
        ]


class TestPreHijacking:
    async def test_a_squatted_address_never_joins_on_the_admins_add(
        self, client, owner_dsn
    ) -> None:
        victim = unique_email("victim")
        attacker = await signup_and_login(client, email=victim, name="Attacker")
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)

        added = await _invite(client, owner, tenant, victim)

        assert added.status_code == 201
        assert added.json()["status"] == "invited"
        assert added.json()["user_id"] is None
        assert _memberships(owner_dsn, victim) == []
        denied = await client.get(f"/api/v1/tenants/{tenant}", headers=attacker.headers)
        assert denied.status_code == 404
        again = await client.post(
            "/api/v1/auth/login", json={"email": victim, "password": PASSWORD}
        )
        session = await client.get(
            "/api/v1/auth/session",
            headers={"Authorization": f"Bearer {again.json()['access_token']}"},
        )
        assert session.json()["memberships"] == []

    async def test_the_add_answers_alike_for_accounts_and_unknown_addresses(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        known = await signup_and_login(client, name="Secret Name")
        unknown = unique_email("nobody")

        with_account = await _invite(client, owner, tenant, known.email, "viewer")
        without = await _invite(client, owner, tenant, unknown, "viewer")

        assert with_account.status_code == without.status_code == 201
        varying = {"email", "created_at"}
        assert {k: v for k, v in with_account.json().items() if k not in varying} == {
            k: v for k, v in without.json().items() if k not in varying
        }
        assert "Secret Name" not in with_account.text

    async def test_the_mailbox_owner_reclaims_the_squatted_account_and_joins(
        self, client, owner_dsn
    ) -> None:
        victim = unique_email("victim")
        attacker = await signup_and_login(client, email=victim, name="Attacker")
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        await _invite(client, owner, tenant, victim)
        token = mailed_token(victim, "member_invited")

        missing = await _accept(client, token)
        assert missing.status_code == 422
        assert [e["field"] for e in missing.json()["errors"]] == ["password"]
        accepted = await _accept(client, token, password=VICTIM_PASSWORD)

        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["user"]["id"] == attacker.id  # the same row, now the victim's
        assert accepted.json()["user"]["email_verified"] is True
        assert _memberships(owner_dsn, victim) == [(tenant, "admin")]
        squatter = await client.post(
            "/api/v1/auth/login", json={"email": victim, "password": PASSWORD}
        )
        assert squatter.status_code == 401
        stolen = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": attacker.refresh_token}
        )
        assert stolen.status_code == 401
        live = await client.get(f"/api/v1/tenants/{tenant}", headers=attacker.headers)
        assert live.status_code == 401  # the squatter's live access token ended too
        owner_of_mailbox = await login(client, victim, VICTIM_PASSWORD)
        joined = await client.get(f"/api/v1/tenants/{tenant}", headers=owner_of_mailbox.headers)
        assert joined.status_code == 200
        assert joined.json()["role"] == "admin"

    async def test_verifying_the_address_does_not_accept_invitations(
        self, client, owner_dsn
    ) -> None:
        victim = unique_email("victim")
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        await _invite(client, owner, tenant, victim)
        await signup_and_login(client, email=victim)
        verified = await client.post(
            "/api/v1/auth/verify-email", json={"token": mailed_token(victim, "verify_email")}
        )
        assert verified.status_code == 204
        assert _memberships(owner_dsn, victim) == []


class TestInvitationTokens:
    async def test_a_verified_account_joins_with_the_token_alone(self, client, owner_dsn) -> None:
        member = await signup_and_login(client)
        await client.post(
            "/api/v1/auth/verify-email",
            json={"token": mailed_token(member.email, "verify_email")},
        )
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        await _invite(client, owner, tenant, member.email, "viewer")

        accepted = await _accept(client, mailed_token(member.email, "member_invited"))

        assert accepted.status_code == 200
        assert _memberships(owner_dsn, member.email) == [(tenant, "viewer")]
        still = await client.get(f"/api/v1/tenants/{tenant}", headers=member.headers)
        assert still.status_code == 200  # nothing was reclaimed: its sessions live on

    async def test_a_new_address_creates_a_verified_account(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        email = unique_email("newcomer")
        await _invite(client, owner, tenant, email, "manager")
        token = mailed_token(email, "member_invited")

        incomplete = await _accept(client, token, password=PASSWORD)
        assert incomplete.status_code == 422
        assert [e["field"] for e in incomplete.json()["errors"]] == ["name"]
        weak = await _accept(client, token, name="New Person", password="short")
        assert weak.status_code == 422
        accepted = await _accept(client, token, name="New Person", password=PASSWORD)

        assert accepted.status_code == 200
        assert accepted.json()["role"] == "manager"
        member = await login(client, email)
        assert (await client.get(f"/api/v1/tenants/{tenant}", headers=member.headers)).json()[
            "role"
        ] == "manager"

    async def test_a_token_is_single_use(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        email = unique_email("once")
        await _invite(client, owner, tenant, email, "viewer")
        token = mailed_token(email, "member_invited")
        first = await _accept(client, token, name="Once", password=PASSWORD)
        replay = await _accept(client, token, name="Twice", password=PASSWORD)
        assert first.status_code == 200
        assert replay.status_code == 400
        assert replay.json()["type"].endswith("/invalid-token")

    async def test_an_expired_token_is_refused_and_inviting_again_renews_it(
        self, client, owner_dsn
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        email = unique_email("late")
        await _invite(client, owner, tenant, email, "viewer")
        stale = mailed_token(email, "member_invited")
        with psycopg.connect(owner_dsn) as conn:
            conn.execute(
                "UPDATE invitation SET expires_at = %s WHERE tenant_id = %s",
                (datetime.now(UTC) - timedelta(minutes=1), tenant),
            )
        expired = await _accept(client, stale, name="Late", password=PASSWORD)
        assert expired.status_code == 400
        assert _memberships(owner_dsn, email) == []

        renewed = await _invite(client, owner, tenant, email, "viewer")
        assert renewed.status_code == 201
        fresh = mailed_token(email, "member_invited")
        assert fresh != stale
        assert (await _accept(client, stale, name="Late", password=PASSWORD)).status_code == 400
        assert (await _accept(client, fresh, name="Late", password=PASSWORD)).status_code == 200

    async def test_an_open_invitation_is_a_conflict_until_used(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        email = unique_email("twice")
        assert (await _invite(client, owner, tenant, email, "viewer")).status_code == 201
        assert (await _invite(client, owner, tenant, email, "viewer")).status_code == 409

    async def test_an_invitation_of_one_tenant_joins_only_that_tenant(
        self, client, owner_dsn
    ) -> None:
        owner = await signup_and_login(client)
        first, second = await create_tenant(client, owner), await create_tenant(client, owner)
        email = unique_email("one")
        await _invite(client, owner, first, email, "viewer")
        await _invite(client, owner, second, email, "manager")
        await _accept(client, mailed_token(email, "member_invited"), name="One", password=PASSWORD)
        assert _memberships(owner_dsn, email) == [(second, "manager")]

    async def test_the_invitation_link_is_not_readable_in_the_outbox(
        self, client, owner_dsn
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        email = unique_email("sealed")
        await _invite(client, owner, tenant, email, "viewer")
        token = mailed_token(email, "member_invited")
        with psycopg.connect(owner_dsn) as conn:
            stored = conn.execute(
                "SELECT body_text, coalesce(body_html, ''), encode(body_sealed, 'escape') "
                "FROM mail_outbox WHERE recipient = %s",
                (email,),
            ).fetchone()
        assert stored is not None
        assert all(token not in column for column in stored)
        assert token in latest_mail(email, "member_invited")


class TestAddingNeedsStepUp:
    async def test_adding_and_removing_with_a_stale_login_are_refused(
        self, client, owner_dsn
    ) -> None:
        from tests.factories import stale_headers

        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        member = await invite_and_accept(client, owner, tenant, "viewer")
        stale = await stale_headers(owner)
        email = unique_email("stale")
        added = await client.post(
            f"/api/v1/tenants/{tenant}/members",
            json={"email": email, "role": "viewer"},
            headers=stale,
        )
        removed = await client.delete(
            f"/api/v1/tenants/{tenant}/members/{member['user']['id']}", headers=stale
        )
        for refused in (added, removed):
            assert refused.status_code == 401
            assert refused.json()["type"].endswith("step-up-required")
        with psycopg.connect(owner_dsn) as conn:
            invited = conn.execute(
                "SELECT count(*) FROM invitation WHERE email = %s", (email,)
            ).fetchone()
        assert invited == (0,)
        assert _memberships(owner_dsn, member["user"]["email"]) == [(tenant, "viewer")]


class TestVerificationDefault:
    @pytest.mark.parametrize(
        ("env", "setting", "required"),
        [
            ("production", None, True),
            ("development", None, False),
            ("production", False, False),
            ("development", True, True),
        ],
    )
    def test_verification_is_on_unless_development_or_switched_off(
        self, env, setting, required
    ) -> None:
        settings = Settings(env=env, require_email_verification=setting)
        assert settings.email_verification_required is required
