"""Feed push jobs end to end: queued over HTTP, run by the worker against the fake Merchant
API, per-item outcomes recorded, retries of a 503, whole-job failures with the
`feed_job.failed` event, and staff cancel/retry."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from mercato.kernel.events import subscribe
from mercato.modules.channels import FEED_JOB_FAILED, FEED_JOB_FAILED_AGAIN
from mercato.modules.channels.feeds.jobs import _queue_daily_pushes
from tests.factories import add_member, create_api_key
from tests.fakes.google import FakeGoogle
from tests.jobs import run_queued_jobs
from tests.metrics import scraped
from tests.modules.channels.shop import CLEAN, DEFECTS, Shop, build_shop
from tests.modules.channels.test_google_oauth import _expire_soon, linked_tenant

failures: list[tuple[uuid.UUID, dict[str, Any]]] = []


@subscribe(FEED_JOB_FAILED)
async def remember_failure(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    failures.append((tenant_id, payload))


repeated: list[tuple[uuid.UUID, dict[str, Any]]] = []


@subscribe(FEED_JOB_FAILED_AGAIN)
async def remember_repeated_failure(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    repeated.append((tenant_id, payload))


async def run_jobs() -> None:
    await run_queued_jobs("channels", "default")


@pytest.fixture
async def shop(client, google: FakeGoogle, taxonomy_in_database) -> Shop:
    tenant, owner = await linked_tenant(client, google)
    shop = await build_shop(client, tenant, owner)
    linked = await client.put(
        shop.url(f"/google/merchant-links/{google.account}"),
        json={"data_source_id": google.data_source, "content_language": "sv", "feed_label": "SE"},
        headers=owner.headers,
    )
    assert linked.status_code == 201, linked.text
    return shop


async def push(client, shop: Shop) -> str:
    response = await client.post(shop.url("/feed/push"), headers=shop.owner.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


async def job(client, shop: Shop, job_id: str) -> dict[str, Any]:
    response = await client.get(shop.url(f"/feed-jobs/{job_id}"), headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def items(client, shop: Shop, job_id: str) -> dict[str, dict[str, Any]]:
    response = await client.get(
        shop.url(f"/feed-jobs/{job_id}/items?limit=500"), headers=shop.owner.headers
    )
    return {row["product_id"]: row for row in response.json()["data"]}


def pushes_counted_for_operators(owner_dsn: str, tenant: str) -> tuple[int, int]:
    """What the operators' pilot KPIs read (`platform_source_feed_pushes`)."""
    with psycopg.connect(owner_dsn) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        row = conn.execute(
            "SELECT * FROM platform_source_feed_pushes(%s, now() - interval '1 day')", (tenant,)
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def push_metrics(client) -> list[float]:
    return [
        await scraped(client, "mercato_feed_pushes_total", outcome="success"),
        await scraped(client, "mercato_feed_pushes_total", outcome="failed"),
        *[
            await scraped(client, "mercato_feed_push_items_total", outcome=outcome)
            for outcome in ("pushed", "failed", "skipped")
        ],
    ]


class TestPush:
    async def test_valid_items_are_pushed_and_failures_recorded_per_item(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        google.fail_first_with_503 = {"clean-2"}
        google.reject = {"clean-3": "[price] Invalid value"}
        counted = await push_metrics(client)
        job_id = await push(client, shop)
        queued = await job(client, shop, job_id)
        assert (queued["status"], queued["attempts"], queued["account_id"]) == (
            "queued",
            0,
            google.account,
        )
        await run_jobs()
        done = await job(client, shop, job_id)
        assert done["status"] == "success", done
        assert done["attempts"] == 1
        assert done["error"] is None
        assert (done["items_checked"], done["items_skipped"]) == (9, 5)
        assert (done["items_succeeded"], done["items_failed"]) == (3, 1)
        assert done["started_at"] is not None
        assert done["finished_at"] >= done["started_at"]

        assert set(google.accepted) == {"clean-1", "clean-2", "unaligned"}
        sent = google.accepted["clean-1"]
        assert sent["contentLanguage"] == "sv"
        assert sent["feedLabel"] == "SE"
        assert sent["productAttributes"]["googleProductCategory"] == "460"
        assert google.calls["clean-2"] == 2  # the 503 was retried, then accepted

        outcomes = await items(client, shop, job_id)
        assert outcomes["clean-2"]["outcome"] == "pushed"
        assert outcomes["clean-2"]["attempts"] == 2
        assert outcomes["clean-3"]["outcome"] == "failed"
        assert outcomes["clean-3"]["status_code"] == 400
        assert outcomes["clean-3"]["error"] == "400 INVALID_ARGUMENT: [price] Invalid value"
        for product_id, (_, code) in DEFECTS.items():
            assert outcomes[product_id]["outcome"] == "skipped"
            assert code in outcomes[product_id]["error"]
        failed_only = await client.get(
            shop.url(f"/feed-jobs/{job_id}/items?outcome=failed"), headers=shop.owner.headers
        )
        assert [row["product_id"] for row in failed_only.json()["data"]] == ["clean-3"]

        listed = await client.get(shop.url("/feed-jobs"), headers=shop.owner.headers)
        assert [row["id"] for row in listed.json()["data"]] == [job_id]
        assert pushes_counted_for_operators(owner_dsn, shop.tenant) == (1, 0)
        moved = [a - b for a, b in zip(await push_metrics(client), counted, strict=True)]
        assert moved == [1, 0, 3, 1, 5]  # success, failed; items pushed, failed, skipped

    async def test_a_job_google_rejects_entirely_fails_and_says_why(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        google.reject = {pid: "[link] Not crawlable" for pid in (*CLEAN, "unaligned")}
        failures.clear()
        job_id = await push(client, shop)
        await run_jobs()
        done = await job(client, shop, job_id)
        assert done["status"] == "failed"
        assert "rejected all 4 items" in done["error"]
        assert "[link] Not crawlable" in done["error"]
        assert pushes_counted_for_operators(owner_dsn, shop.tenant) == (0, 1)
        [(tenant, payload)] = [f for f in failures if f[1]["job_id"] == job_id]
        assert tenant == uuid.UUID(shop.tenant)
        assert (payload["error"], payload["id"], payload["attempts"]) == (done["error"], job_id, 1)
        assert payload["summary"].startswith("The push to Merchant Center account")

    async def test_a_second_failure_in_a_row_tells_the_merchant_once_per_failure(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        google.reject = {pid: "[link] Not crawlable" for pid in (*CLEAN, "unaligned")}
        repeated.clear()
        first = await push(client, shop)
        await run_jobs()
        assert (await job(client, shop, first))["status"] == "failed"
        assert repeated == []  # one failure is not a pattern
        second = await push(client, shop)
        await run_jobs()
        [(tenant, payload)] = repeated
        assert tenant == uuid.UUID(shop.tenant)
        assert (payload["occurrence_id"], payload["account_id"]) == (second, google.account)
        assert "failed twice in a row" in payload["summary"]
        google.reject = {}
        fixed = await push(client, shop)
        await run_jobs()
        assert (await job(client, shop, fixed))["status"] == "success"
        google.reject = {pid: "[link] Not crawlable" for pid in (*CLEAN, "unaligned")}
        await push(client, shop)
        await run_jobs()
        assert len(repeated) == 1  # a failure after a success starts over

    async def test_a_revoked_link_fails_the_job_at_once(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        failures.clear()
        job_id = await push(client, shop)
        google.refresh_tokens.clear()
        await _expire_soon(shop.tenant)
        await run_jobs()
        done = await job(client, shop, job_id)
        assert done["status"] == "failed"
        assert "refused to refresh" in done["error"]
        assert done["items_checked"] == 0
        assert google.accepted == {}
        assert [payload["job_id"] for _, payload in failures] == [job_id]

    async def test_google_unreachable_requeues_with_backoff_then_staff_retry(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        job_id = await push(client, shop)
        google.token_endpoint_down = True
        await _expire_soon(shop.tenant)
        await run_jobs()
        waiting = await job(client, shop, job_id)
        assert waiting["status"] == "queued"
        assert waiting["attempts"] == 1
        assert waiting["error"].startswith("Attempt 1 failed")
        assert waiting["next_attempt_at"] is not None

        url = shop.url(f"/feed-jobs/{job_id}/status")
        cancelled = await client.patch(url, json={"status": "failed"}, headers=shop.owner.headers)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "failed"
        assert cancelled.json()["cancelled_by"] == f"user:{shop.owner.id}"
        again = await client.patch(url, json={"status": "failed"}, headers=shop.owner.headers)
        assert again.status_code == 409

        google.token_endpoint_down = False
        retried = await client.patch(url, json={"status": "queued"}, headers=shop.owner.headers)
        assert retried.status_code == 200
        assert (retried.json()["status"], retried.json()["attempts"]) == ("queued", 0)
        await run_jobs()
        done = await job(client, shop, job_id)
        assert (done["status"], done["trigger"], done["attempts"]) == ("success", "retry", 1)
        assert done["items_succeeded"] == 4

    async def test_one_push_per_account_at_a_time(self, client, shop: Shop) -> None:
        job_id = await push(client, shop)
        second = await client.post(shop.url("/feed/push"), headers=shop.owner.headers)
        assert second.status_code == 409
        assert second.json()["type"].endswith("/feed-push-in-progress")
        assert second.json()["job_id"] == job_id
        assert await _queue_daily_pushes(uuid.UUID(shop.tenant)) == 0

    async def test_the_daily_schedule_queues_a_push_per_linked_account(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        assert await _queue_daily_pushes(uuid.UUID(shop.tenant)) == 1
        listed = await client.get(shop.url("/feed-jobs"), headers=shop.owner.headers)
        [scheduled] = listed.json()["data"]
        assert (scheduled["trigger"], scheduled["requested_by"]) == ("schedule", "system:schedule")
        await run_jobs()
        assert (await job(client, shop, scheduled["id"]))["status"] == "success"

    async def test_only_staff_cancel_or_retry(self, client, shop: Shop) -> None:
        job_id = await push(client, shop)
        url = shop.url(f"/feed-jobs/{job_id}/status")
        key = await create_api_key(client, shop.owner, shop.tenant)
        by_key = await client.patch(
            url, json={"status": "failed"}, headers={"X-API-Key": key["key"]}
        )
        assert by_key.status_code == 403
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        assert (
            await client.patch(url, json={"status": "failed"}, headers=viewer.headers)
        ).status_code == 403
        manager = await add_member(client, shop.owner, shop.tenant, "manager")
        by_manager = await client.patch(url, json={"status": "failed"}, headers=manager.headers)
        assert by_manager.status_code == 200
        success_retry = await client.patch(
            url, json={"status": "processing"}, headers=manager.headers
        )
        assert success_retry.status_code == 422


class TestPushPreconditions:
    async def test_a_push_needs_a_google_link_and_an_account(
        self, client, google: FakeGoogle, taxonomy_in_database
    ) -> None:
        from tests.factories import create_tenant, signup_and_login

        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        unlinked = await client.post(f"/api/v1/tenants/{tenant}/feed/push", headers=owner.headers)
        assert unlinked.status_code == 409
        assert unlinked.json()["type"].endswith("/google-not-linked")
        tenant, owner = await linked_tenant(client, google)
        no_account = await client.post(f"/api/v1/tenants/{tenant}/feed/push", headers=owner.headers)
        assert no_account.status_code == 422


@pytest.mark.parametrize("locale", ["en", "de"])
def test_the_repeated_failure_message_names_the_account_and_the_error(locale: str) -> None:
    from mercato.modules.notifications.messages import render_message

    payload = {
        "id": "123",
        "account_id": "123",
        "occurrence_id": "job-9",
        "error": "Google rejected all 4 items sent",
        "summary": "Feed pushes to Merchant Center account 123 failed twice in a row",
    }
    message = render_message("feed_job.failed_again", locale, tenant="Shop", payload=payload)
    assert message.locale == locale
    assert "123" in message.body
    assert "job-9" in message.body
    assert "Google rejected all 4 items sent" in message.body
    assert message.short.startswith("Shop: ")
