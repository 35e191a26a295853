"""Scheduled and manual branch reports arrive at a real SMTP server with the right numbers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from pydantic import SecretStr

from mercato.modules.analytics import roll_up_tenant
from mercato.modules.mail import jobs as mail_jobs
from mercato.modules.reports.jobs import queue_due
from mercato.settings import get_settings
from tests.fakes.smtp import smtp_server
from tests.jobs import run_queued_jobs
from tests.modules.analytics.events import Ev, Truth, send
from tests.modules.tracking.helpers import new_shop, set_locale

ZONE = "Europe/Berlin"


@pytest.fixture
def use_smtp(monkeypatch):
    def configure(url: str) -> None:
        settings = get_settings().model_copy(update={"smtp_url": SecretStr(url)})
        monkeypatch.setattr(mail_jobs, "get_settings", lambda: settings)

    return configure


async def _run_queues() -> None:
    await run_queued_jobs("reports", "mail", rounds=2)


def _order(user: str, at: datetime, location: str, amount: str, order: str) -> list[Ev]:
    return [
        Ev("view_item", user, f"{user}-s", at, location, "sku-1"),
        Ev("add_to_cart", user, f"{user}-s", at + timedelta(minutes=1), location, "sku-1", 1),
        Ev(
            "purchase",
            user,
            f"{user}-s",
            at + timedelta(minutes=2),
            location,
            "sku-1",
            1,
            Decimal(amount),
            order,
        ),
    ]


@pytest.fixture
async def branches(client):
    shop = await new_shop(client)
    headers = shop.owner.headers
    assert (
        await client.patch(
            f"/api/v1/tenants/{shop.tenant_id}",
            json={"settings": {"timezone": ZONE}},
            headers=headers,
        )
    ).status_code == 200
    for code, name in (("B1", "Harbour Store"), ("B2", "Old Town Store")):
        response = await client.put(
            f"{shop.base}/locations/{code}", json={"name": name}, headers=headers
        )
        assert response.status_code == 201, response.text
    now = datetime.now(UTC)
    tz = ZoneInfo(ZONE)
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    noon = datetime.combine(yesterday, time(12), tz).astimezone(UTC)
    before = noon - timedelta(days=1)
    events = [
        *_order("ua", noon, "B1", "100.00", "O1"),
        *_order("ub", noon + timedelta(hours=1), "B1", "50.00", "O2"),
        *_order("uc", noon, "B2", "30.00", "O3"),
        *_order("ud", before, "B1", "75.00", "O0"),
        Ev("view_item", "ue", "ue-s", noon, "B2", "sku-2"),
    ]
    await send(client, shop, events)
    await roll_up_tenant(uuid.UUID(shop.tenant_id), now=now + timedelta(minutes=5))
    for code, emails in (("B1", ["a@b1.example", "b@b1.example"]), ("B2", ["c@b2.example"])):
        response = await client.put(
            f"{shop.base}/reports/branches/{code}", json={"recipients": emails}, headers=headers
        )
        assert response.status_code == 200, response.text
    return shop, Truth(events, ZONE), yesterday, now


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


async def test_scheduled_report_reaches_each_branch_with_its_numbers(
    client, branches, use_smtp
) -> None:
    shop, truth, yesterday, now = branches
    put = await client.put(
        f"{shop.base}/reports/schedules/daily", json={"hour": 0}, headers=shop.owner.headers
    )
    assert put.status_code == 200, put.text
    with smtp_server() as (inbox, url):
        use_smtp(url)
        assert await queue_due(now) >= 1
        await queue_due(now + timedelta(minutes=10))  # already sent today: not again
        await _run_queues()
    ours = ("a@b1.example", "b@b1.example", "c@b2.example")
    by_recipient = {m["To"]: m for m in inbox.messages if m["To"] in ours}
    assert set(by_recipient) == {"a@b1.example", "b@b1.example", "c@b2.example"}
    for code, recipient in (("B1", "a@b1.example"), ("B2", "c@b2.example")):
        expected = truth.kpis(truth.select(yesterday, yesterday, code))
        previous = truth.kpis(
            truth.select(yesterday - timedelta(days=1), yesterday - timedelta(days=1), code)
        )
        body = _text(by_recipient[recipient])
        assert f"Revenue: €{expected['revenue']:,.2f} (previous €{previous['revenue']:,.2f}" in body
        assert f"Orders: {expected['purchases']} (previous {previous['purchases']}" in body
        assert f"Sessions: {expected['sessions']} " in body
        html = by_recipient[recipient].get_body(preferencelist=("html",)).get_content()
        assert "cid:revenue-chart" in html
        assert "<style" not in html  # CSS inlined
        assert 'style="' in html
        images = [p for p in by_recipient[recipient].walk() if p.get_content_type() == "image/png"]
        assert len(images) == 1
        assert images[0]["Content-ID"] == "<revenue-chart>"
        assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Revenue: €150.00" in _text(by_recipient["b@b1.example"])
    jobs = await client.get(f"{shop.base}/reports/jobs", headers=shop.owner.headers)
    assert jobs.status_code == 200
    [job] = jobs.json()["data"]
    assert job["trigger"] == "daily"
    assert job["status"] == "completed"
    assert job["period_start"] == job["period_end"] == str(yesterday)
    assert {(d["recipient"], d["status"]) for d in job["deliveries"]} == {
        ("a@b1.example", "sent"),
        ("b@b1.example", "sent"),
        ("c@b2.example", "sent"),
    }
    again = await client.get(f"{shop.base}/reports/schedules", headers=shop.owner.headers)
    assert again.json()["data"][0]["last_run_on"] is not None


async def test_send_now_for_one_branch(client, branches, use_smtp) -> None:
    shop, *_ = branches
    response = await client.post(
        f"{shop.base}/reports/send",
        json={"location_code": "B2", "period": "day"},
        headers=shop.owner.headers,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    with smtp_server() as (inbox, url):
        use_smtp(url)
        await _run_queues()
    received = [m for m in inbox.messages if m["To"] == "c@b2.example"]
    assert len(received) == 1
    assert "Revenue: €30.00" in _text(received[0])
    job = await client.get(f"{shop.base}/reports/jobs/{job_id}", headers=shop.owner.headers)
    assert job.json()["deliveries"][0]["status"] == "sent"
    assert job.json()["location_code"] == "B2"


@pytest.mark.parametrize(
    ("locale", "currency", "revenue", "conversion"),
    [
        ("en-US", "USD", "$30.00", "50.00%"),
        ("de-DE", "EUR", "30,00\xa0€", "50,00\xa0%"),
        ("ja-JP", "JPY", "￥30", "50.00%"),
    ],
)
async def test_a_report_writes_amounts_in_the_tenants_currency_and_locale(
    client, branches, use_smtp, locale, currency, revenue, conversion
) -> None:
    shop, _, yesterday, _ = branches
    await set_locale(client, shop, locale, currency)
    response = await client.post(
        f"{shop.base}/reports/send",
        json={"location_code": "B2", "period": "day"},
        headers=shop.owner.headers,
    )
    assert response.status_code == 202, response.text
    with smtp_server() as (inbox, url):
        use_smtp(url)
        await _run_queues()
    [message] = [m for m in inbox.messages if m["To"] == "c@b2.example"]
    text = _text(message)
    assert f"Revenue: {revenue} (previous " in text
    assert f"Average order value: {revenue} " in text
    assert f"Conversion rate: {conversion} " in text
    assert f"1. sku-1: 1 units, {revenue} revenue" in text
    assert format_date(yesterday, "medium", locale=locale.replace("-", "_")) in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'nowrap;">{revenue}</td>' in unescape(html)  # the Revenue row's figure


async def test_bad_report_requests_are_clear_4xx(client, branches) -> None:
    shop, *_ = branches
    headers = shop.owner.headers
    weekly = await client.put(
        f"{shop.base}/reports/schedules/weekly", json={"hour": 7}, headers=headers
    )
    assert weekly.status_code == 422
    unknown = await client.put(
        f"{shop.base}/reports/branches/NOPE", json={"recipients": ["x@y.example"]}, headers=headers
    )
    assert unknown.status_code == 404
    bad_email = await client.put(
        f"{shop.base}/reports/branches/B1", json={"recipients": ["not-an-email"]}, headers=headers
    )
    assert bad_email.status_code == 422
    unmapped = await client.post(
        f"{shop.base}/reports/send", json={"location_code": "B9"}, headers=headers
    )
    assert unmapped.status_code == 404
    half = await client.post(
        f"{shop.base}/reports/send", json={"start": "2026-01-01"}, headers=headers
    )
    assert half.status_code == 422


async def test_a_tenant_with_its_own_smtp_server_gets_its_reports_through_it(
    client, branches, use_smtp
) -> None:
    shop, *_ = branches
    with smtp_server() as (own, own_url), smtp_server() as (deployment, deployment_url):
        use_smtp(deployment_url)
        linked = await client.put(
            f"{shop.base}/integrations/smtp",
            json={
                "host": "127.0.0.1",
                "port": int(own_url.rsplit(":", 1)[1]),
                "security": "none",
                "from_address": "reports@branch-shop.example",
            },
            headers=shop.owner.headers,
        )
        assert linked.status_code in (200, 201), linked.text
        response = await client.post(
            f"{shop.base}/reports/send",
            json={"location_code": "B2", "period": "day"},
            headers=shop.owner.headers,
        )
        assert response.status_code == 202, response.text
        await _run_queues()
    received = [m for m in own.messages if m["To"] == "c@b2.example"]
    assert len(received) == 1
    assert str(received[0]["From"]) == "reports@branch-shop.example"
    assert not [m for m in deployment.messages if m["To"] == "c@b2.example"]
    job = await client.get(
        f"{shop.base}/reports/jobs/{response.json()['job_id']}", headers=shop.owner.headers
    )
    assert job.json()["deliveries"][0]["status"] == "sent"
