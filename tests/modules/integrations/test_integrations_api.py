"""{T}/integrations/{kind}: secrets sealed at rest, never returned, step-up to change them."""

from __future__ import annotations

import uuid

import psycopg

from mercato.kernel.db import get_database
from mercato.modules.integrations import get_integration_config
from tests.factories import add_member, stale_headers
from tests.modules.integrations.fakes import GOOD_STRIPE_KEY
from tests.modules.tracking.helpers import new_shop

SMTP = {
    "host": "smtp.shop.example",
    "port": 587,
    "username": "mailer",
    "password": "hunter2-smtp-pass",
    "from_address": "shop@shop.example",
}


async def test_secrets_are_masked_on_every_read_and_sealed_at_rest(client, owner_dsn) -> None:
    shop = await new_shop(client)
    created = await client.put(
        f"{shop.base}/integrations/smtp", json=SMTP, headers=shop.owner.headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["settings"]["password"] == {"set": True}
    assert body["settings"]["host"] == "smtp.shop.example"
    assert "hunter2" not in created.text
    read = await client.get(f"{shop.base}/integrations/smtp", headers=shop.owner.headers)
    listing = await client.get(f"{shop.base}/integrations", headers=shop.owner.headers)
    assert "hunter2" not in read.text + listing.text
    assert [i["kind"] for i in listing.json()["data"]] == ["smtp"]
    with psycopg.connect(owner_dsn) as conn:
        settings, sealed, key_id = conn.execute(
            "SELECT settings::text, secrets_sealed, key_id FROM integration_config "
            "WHERE tenant_id = %s",
            (shop.tenant_id,),
        ).fetchone()
    assert b"hunter2" not in bytes(sealed)
    assert "hunter2" not in settings
    assert key_id
    assert len(key_id) == 8
    audit = await client.get(f"{shop.base}/audit-logs", headers=shop.owner.headers)
    assert "hunter2" not in audit.text
    assert "integration.created" in audit.text


async def test_jobs_get_the_decrypted_settings(client) -> None:
    shop = await new_shop(client)
    await client.put(f"{shop.base}/integrations/smtp", json=SMTP, headers=shop.owner.headers)
    tenant = uuid.UUID(shop.tenant_id)
    async with get_database().tenant_session(tenant) as session:
        config = await get_integration_config(session, tenant, "smtp")
        missing = await get_integration_config(session, tenant, "stripe")
    assert config is not None
    assert config["password"] == "hunter2-smtp-pass"
    assert config["port"] == 587
    assert missing is None


async def test_api_keys_show_only_their_last_four_characters(client) -> None:
    shop = await new_shop(client)
    response = await client.put(
        f"{shop.base}/integrations/stripe",
        json={"secret_key": GOOD_STRIPE_KEY},
        headers=shop.owner.headers,
    )
    assert response.status_code == 201
    assert response.json()["settings"]["secret_key"] == {
        "set": True,
        "hint": "••••" + GOOD_STRIPE_KEY[-4:],
    }
    assert response.json()["settings"]["webhook_secret"] == {"set": False}


async def test_plain_changes_keep_the_secret_and_need_no_step_up(client) -> None:
    shop = await new_shop(client)
    await client.put(f"{shop.base}/integrations/smtp", json=SMTP, headers=shop.owner.headers)
    stale = await stale_headers(shop.owner)
    plain = {k: v for k, v in SMTP.items() if k != "password"} | {"port": 2525}
    response = await client.put(f"{shop.base}/integrations/smtp", json=plain, headers=stale)
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["port"] == 2525
    assert response.json()["settings"]["password"] == {"set": True}
    changing = await client.put(f"{shop.base}/integrations/smtp", json=SMTP, headers=stale)
    assert changing.status_code == 401
    assert changing.json()["type"].endswith("step-up-required")
    assert (await client.delete(f"{shop.base}/integrations/smtp", headers=stale)).status_code == 401
    assert (
        await client.delete(f"{shop.base}/integrations/smtp", headers=shop.owner.headers)
    ).status_code == 204
    assert (
        await client.get(f"{shop.base}/integrations/smtp", headers=shop.owner.headers)
    ).status_code == 404


async def test_invalid_settings_are_422_with_the_fields(client) -> None:
    shop = await new_shop(client)
    response = await client.put(
        f"{shop.base}/integrations/sftp",
        json={"host": "sftp.example", "port": 70000},
        headers=shop.owner.headers,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"port", "username"} <= fields
    no_credential = await client.put(
        f"{shop.base}/integrations/sftp",
        json={"host": "sftp.example", "username": "u"},
        headers=shop.owner.headers,
    )
    assert no_credential.status_code == 422
    bad_key = await client.put(
        f"{shop.base}/integrations/bigquery",
        json={"project_id": "shop-analytics", "dataset": "analytics_1", "credentials_json": "{}"},
        headers=shop.owner.headers,
    )
    assert bad_key.status_code == 422
    unknown = await client.put(f"{shop.base}/integrations/ftp", json={}, headers=shop.owner.headers)
    assert unknown.status_code == 422


async def test_managers_cannot_see_integrations(client) -> None:
    shop = await new_shop(client)
    manager = await add_member(client, shop.owner, shop.tenant_id, "manager")
    assert (
        await client.get(f"{shop.base}/integrations", headers=manager.headers)
    ).status_code == 403
    assert (
        await client.put(f"{shop.base}/integrations/smtp", json=SMTP, headers=manager.headers)
    ).status_code == 403


async def test_secrets_stay_readable_after_a_key_rotation_and_reseal_on_write(client) -> None:
    from tests.conftest import TEST_SECRET
    from tests.modules.integrations.fakes import patched_settings

    shop = await new_shop(client)
    first = await client.put(
        f"{shop.base}/integrations/smtp", json=SMTP, headers=shop.owner.headers
    )
    old_key_id = first.json()["key_id"]
    tenant = uuid.UUID(shop.tenant_id)
    with patched_settings(secret_key="rotated-" + "y" * 32, previous_secret_keys=TEST_SECRET):
        async with get_database().tenant_session(tenant) as session:
            config = await get_integration_config(session, tenant, "smtp")
        assert config is not None
        assert config["password"] == SMTP["password"]
        resealed = await client.put(
            f"{shop.base}/integrations/smtp", json=SMTP, headers=shop.owner.headers
        )
        assert resealed.json()["key_id"] != old_key_id
