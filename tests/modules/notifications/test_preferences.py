"""Notification preferences over HTTP: defaults, replacing the rules, validation."""

from __future__ import annotations

import pytest

from tests.factories import add_member, create_tenant, signup_and_login


async def test_defaults_apply_until_rules_are_saved_and_saving_is_audited(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}/notifications/preferences"
    defaults = (await client.get(url, headers=owner.headers)).json()
    assert defaults["customized"] is False
    assert {(r["event"], r["channel"]) for r in defaults["rules"]} == {
        ("inventory.low_stock", "email"),
        ("feed_job.failed", "email"),
        ("feed_job.failed_again", "email"),
        ("tracking.ga4_stale", "email"),
        ("feedback.satisfaction_low", "email"),
    }
    assert set(defaults["events"]) == {
        "order.created",
        "order.paid",
        "order.partially_fulfilled",
        "order.fulfilled",
        "order.refunded",
        "shipment.created",
        "shipment.delivered",
        "return.created",
        "refund.created",
        "inventory.low_stock",
        "feed_job.failed",
        "feed_job.failed_again",
        "tracking.ga4_stale",
        "feedback.satisfaction_low",
        "report.delivered",
    }
    assert defaults["channels"]["sms"]["transport"] == "jsonl-files"
    assert defaults["effective_locale"] == "en"

    rules = [
        {"event": "order.created", "channel": "email", "recipients": ["role:manager", "customer"]},
        {"event": "order.fulfilled", "channel": "sms", "recipients": ["customer", "+46700000001"]},
        {
            "event": "order.paid",
            "channel": "push",
            "recipients": ["topic:orders"],
            "enabled": False,
        },
    ]
    saved = await client.put(url, json={"locale": "de", "rules": rules}, headers=owner.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["customized"] is True
    assert saved.json()["effective_locale"] == "de"
    again = (await client.get(url, headers=owner.headers)).json()
    assert [(r["event"], r["channel"], r["enabled"]) for r in again["rules"]] == [
        ("order.created", "email", True),
        ("order.fulfilled", "sms", True),
        ("order.paid", "push", False),
    ]
    audit = await client.get(
        f"/api/v1/tenants/{tenant}/audit-logs",
        params={"action": "notifications.preferences_updated"},
        headers=owner.headers,
    )
    assert len(audit.json()["data"]) == 1

    silenced = await client.put(url, json={"rules": []}, headers=owner.headers)
    assert silenced.json()["customized"] is True
    assert silenced.json()["rules"] == []


@pytest.mark.parametrize(
    "rule",
    [
        {"event": "order.exploded", "channel": "email", "recipients": ["a@b.example"]},
        {"event": "order.paid", "channel": "fax", "recipients": ["a@b.example"]},
        {"event": "order.paid", "channel": "email", "recipients": ["not-an-address"]},
        {"event": "order.paid", "channel": "email", "recipients": ["role:emperor"]},
        {"event": "order.paid", "channel": "sms", "recipients": ["0700 000 000"]},
        {"event": "order.paid", "channel": "push", "recipients": ["bad target!"]},
        {"event": "order.paid", "channel": "email", "recipients": []},
    ],
)
async def test_invalid_rules_are_a_422(client, rule) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.put(
        f"/api/v1/tenants/{tenant}/notifications/preferences",
        json={"rules": [rule]},
        headers=owner.headers,
    )
    assert response.status_code == 422, response.text


async def test_two_rules_for_one_event_and_channel_are_a_422(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    rule = {"event": "order.paid", "channel": "email", "recipients": ["a@b.example"]}
    response = await client.put(
        f"/api/v1/tenants/{tenant}/notifications/preferences",
        json={"rules": [rule, rule]},
        headers=owner.headers,
    )
    assert response.status_code == 422


async def test_managers_read_preferences_but_only_admins_change_them(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    manager = await add_member(client, owner, tenant, "manager")
    url = f"/api/v1/tenants/{tenant}/notifications/preferences"
    assert (await client.get(url, headers=manager.headers)).status_code == 200
    denied = await client.put(url, json={"rules": []}, headers=manager.headers)
    assert denied.status_code == 403
