"""Feedback over HTTP: staff and shoppers leave it; the summary counts, averages and trends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mercato.kernel.db import get_database
from mercato.kernel.events import subscribe
from mercato.modules.feedback.models import Feedback
from mercato.modules.feedback.satisfaction_alerts import SATISFACTION_LOW, alert_if_unsatisfied
from mercato.modules.notifications.messages import render_message
from tests.factories import create_api_key, create_tenant, signup_and_login
from tests.jobs import run_queued_jobs
from tests.metrics import scraped

ORIGIN = "https://shop.example"


async def _post(client, tenant: str, headers: dict[str, str], **body) -> dict:
    response = await client.post(f"/api/v1/tenants/{tenant}/feedback", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_staff_feedback_is_stored_with_its_context(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await _post(
        client,
        tenant,
        owner.headers,
        rating=4,
        category="Dashboard",
        comment="  Clear charts ",
        context={"page": "/app/analytics", "feature": "timeseries"},
    )
    assert created["rating"] == 4
    assert created["category"] == "dashboard"
    assert created["comment"] == "Clear charts"
    assert created["context"] == {"page": "/app/analytics", "feature": "timeseries"}
    assert created["source"] == "staff"
    assert created["contact_email"] is None
    listed = await client.get(f"/api/v1/tenants/{tenant}/feedback", headers=owner.headers)
    assert [item["id"] for item in listed.json()["data"]] == [created["id"]]


async def test_shoppers_leave_feedback_with_a_publishable_key_but_cannot_read_it(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    key = await create_api_key(client, owner, tenant, kind="publishable", allowed_origins=[ORIGIN])
    shopper = {"X-API-Key": key["key"], "Origin": ORIGIN}
    created = await _post(
        client,
        tenant,
        shopper,
        rating=5,
        category="checkout",
        contact_consent=True,
        contact_email="Buyer@Example.com",
    )
    assert created["source"] == "shopper"
    assert created["contact_email"] == "buyer@example.com"
    summary = await client.get(f"/api/v1/tenants/{tenant}/feedback/summary", headers=shopper)
    assert summary.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0, "category": "x"},
        {"rating": 6, "category": "x"},
        {"rating": 3, "category": "   "},
        {"rating": 3, "category": "x", "contact_email": "a@b.example"},
        {"rating": 3, "category": "x", "context": {"blob": "y" * 5000}},
        {"rating": 3, "category": "x", "surprise": True},
    ],
)
async def test_invalid_feedback_is_a_422(client, body) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.post(
        f"/api/v1/tenants/{tenant}/feedback", json=body, headers=owner.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def _backdated(tenant: str, rows: list[tuple[int, str, datetime]]) -> None:
    """Feedback given in earlier weeks, written as the app role under the tenant's RLS."""
    tenant_id = uuid.UUID(tenant)
    async with get_database().tenant_session(tenant_id) as session:
        for rating, category, at in rows:
            session.add(
                Feedback(
                    tenant_id=tenant_id,
                    rating=rating,
                    category=category,
                    context={},
                    contact_consent=False,
                    source="staff",
                    author="system",
                    created_at=at,
                )
            )


async def test_summary_counts_distribution_satisfaction_and_weekly_trend(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    other = await create_tenant(client, owner)
    monday = datetime(2026, 10, 5, 9, tzinfo=UTC)  # a Monday
    await _backdated(
        tenant,
        [
            (5, "checkout", monday),
            (4, "checkout", monday + timedelta(days=2)),
            (1, "search", monday + timedelta(days=6, hours=14)),  # Sunday, same week
            (2, "search", monday + timedelta(days=7)),  # next Monday
            (5, "search", monday + timedelta(days=8)),
        ],
    )
    await _backdated(other, [(1, "checkout", monday)])  # another tenant's never counts
    params = {"start": "2026-10-01T00:00:00Z", "end": "2026-10-31T00:00:00Z"}
    response = await client.get(
        f"/api/v1/tenants/{tenant}/feedback/summary", params=params, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["count"] == 5
    assert summary["average"] == pytest.approx(17 / 5)
    assert summary["distribution"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 2}
    assert summary["satisfaction_rate"] == pytest.approx(3 / 5)
    assert summary["by_category"] == {"search": 3, "checkout": 2}
    weeks = summary["by_week"]
    assert [w["week_start"] for w in weeks] == ["2026-10-05", "2026-10-12"]
    assert [w["count"] for w in weeks] == [3, 2]
    assert weeks[0]["average"] == pytest.approx(10 / 3, abs=1e-3)
    assert weeks[0]["satisfaction_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert weeks[1]["satisfaction_rate"] == pytest.approx(1 / 2)

    only_search = await client.get(
        f"/api/v1/tenants/{tenant}/feedback/summary",
        params={**params, "category": "search"},
        headers=owner.headers,
    )
    assert only_search.json()["count"] == 3


async def test_summary_of_no_feedback_has_no_average_and_a_bad_window_is_a_422(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    empty = await client.get(f"/api/v1/tenants/{tenant}/feedback/summary", headers=owner.headers)
    assert empty.json()["count"] == 0
    assert empty.json()["average"] is None
    assert empty.json()["satisfaction_rate"] is None
    assert empty.json()["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    backwards = await client.get(
        f"/api/v1/tenants/{tenant}/feedback/summary",
        params={"start": "2026-10-02", "end": "2026-10-01"},
        headers=owner.headers,
    )
    assert backwards.status_code == 422


async def test_ratings_are_counted_on_metrics(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    before = [await scraped(client, "mercato_feedback_ratings_total", rating=r) for r in "25"]
    await _post(client, tenant, owner.headers, rating=2, category="search")
    await _post(client, tenant, owner.headers, rating=5, category="search")
    await _post(client, tenant, owner.headers, rating=5, category="search")
    after = [await scraped(client, "mercato_feedback_ratings_total", rating=r) for r in "25"]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2]


satisfaction_alerts: list[tuple[uuid.UUID, dict]] = []


@subscribe(SATISFACTION_LOW)
async def remember_satisfaction_alert(tenant_id: uuid.UUID, payload: dict) -> None:
    satisfaction_alerts.append((tenant_id, payload))


async def test_a_merchant_is_told_when_satisfaction_falls_under_their_threshold(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    now = datetime.now(UTC)
    recent = [(2, "search", now - timedelta(days=1))] * 4 + [(5, "search", now)] * 2
    await _backdated(tenant, [*recent, (1, "search", now - timedelta(days=20))])
    satisfaction_alerts.clear()
    tenant_id = uuid.UUID(tenant)
    assert not await alert_if_unsatisfied(tenant_id)  # no threshold set: nothing to say
    bad = await client.patch(
        f"/api/v1/tenants/{tenant}",
        json={"settings": {"satisfaction_alert_below": 7}},
        headers=owner.headers,
    )
    assert bad.status_code == 422
    response = await client.patch(
        f"/api/v1/tenants/{tenant}",
        json={"settings": {"satisfaction_alert_below": 3.5}},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    assert await alert_if_unsatisfied(tenant_id)  # (4 * 2 + 2 * 5) / 6 = 3.0 < 3.5
    await run_queued_jobs("default")
    [(alerted, payload)] = satisfaction_alerts
    assert alerted == tenant_id
    assert (payload["average"], payload["threshold"], payload["ratings"]) == (3.0, 3.5, 6)
    message = render_message(SATISFACTION_LOW, "en", tenant="Shop", payload=payload)
    assert "3.0" in message.body
    assert "3.5" in message.short
    await client.patch(
        f"/api/v1/tenants/{tenant}",
        json={"settings": {"satisfaction_alert_below": 2.5}},
        headers=owner.headers,
    )
    assert not await alert_if_unsatisfied(tenant_id)
