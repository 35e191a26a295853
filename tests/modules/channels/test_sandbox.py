"""The development Merchant API sandbox: the real push client against it, and where it runs."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from mercato.app import create_app
from mercato.kernel.db import get_database
from mercato.kernel.redis import get_redis
from mercato.modules.channels import (
    MerchantApiClient,
    MerchantTarget,
    RetryPolicy,
    link_merchant_sandbox,
    link_sandbox_stores,
    queue_push,
    queue_status_read,
)
from mercato.modules.channels.feeds import sandbox
from mercato.modules.channels.feeds.item_status import fix_for, item_status
from mercato.modules.channels.feeds.local_inventory import local_inventory
from mercato.settings import MissingSecretError, Settings, get_settings
from tests.factories import create_tenant, signup_and_login
from tests.fakes.server import serve
from tests.jobs import run_queued_jobs
from tests.modules.channels.factories import clean_item
from tests.modules.channels.shop import VALID, build_shop
from tests.web.browser import signed_in

TARGET = MerchantTarget(
    account_id=sandbox.ACCOUNT_ID,
    data_source_id=sandbox.DATA_SOURCE_ID,
    content_language="en",
    feed_label="US",
)
ONE_TRY = RetryPolicy(max_attempts=1)


def _client(http: httpx.AsyncClient, token: str) -> MerchantApiClient:
    async def access_token() -> str:
        return token

    return MerchantApiClient(
        http, access_token, base_url="http://sandbox" + sandbox.PREFIX, retry=ONE_TRY
    )


@pytest.fixture
async def empty_sandbox(app: FastAPI) -> None:
    """The sandbox's account as new (it is one account for every tenant, kept in Redis)."""
    await get_redis().delete(
        sandbox.store_key(sandbox.ACCOUNT_ID, "products"),
        sandbox.store_key(sandbox.ACCOUNT_ID, "local"),
    )


@pytest.fixture
async def http(empty_sandbox: None) -> httpx.AsyncClient:
    """The sandbox alone; the suite's `app` is running, so Redis (its store) is open."""
    alone = FastAPI()
    alone.include_router(sandbox.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=alone)) as client:
        yield client


async def test_the_push_client_inserts_clean_items_and_learns_why_others_are_refused(
    http: httpx.AsyncClient,
) -> None:
    client = _client(http, sandbox.sandbox_access_token())
    clean, no_image = clean_item("SKU-1"), clean_item("SKU-2", image_url=None)
    outcomes = await client.push(TARGET, [clean, no_image])
    assert [(o.product_id, o.ok, o.status_code) for o in outcomes] == [
        ("SKU-1", True, 200),
        ("SKU-2", False, 400),
    ]
    assert "productAttributes.imageLink is required" in (outcomes[1].error or "")


async def test_a_wrong_token_or_account_is_refused_like_google_does(
    http: httpx.AsyncClient,
) -> None:
    [outcome] = await _client(http, "sandbox-guessed").push(TARGET, [clean_item()])
    assert (outcome.ok, outcome.status_code) == (False, 401)
    other_account = MerchantTarget("42", sandbox.DATA_SOURCE_ID, "en", "US")
    [outcome] = await _client(http, sandbox.sandbox_access_token()).push(
        other_account, [clean_item()]
    )
    assert (outcome.ok, outcome.status_code) == (False, 403)


def test_the_problems_name_each_malformed_part() -> None:
    data_source = f"accounts/{sandbox.ACCOUNT_ID}/dataSources/{sandbox.DATA_SOURCE_ID}"
    body = {
        "offerId": "SKU-1",
        "contentLanguage": "english",
        "feedLabel": "US",
        "productAttributes": {
            "title": "Sofa",
            "link": "https://shop.example/p/1",
            "imageLink": "https://shop.example/p/1.jpg",
            "availability": "IN_STOCK",
            "price": {"amountMicros": "1.5", "currencyCode": "EUR"},
        },
    }
    assert sandbox.product_input_problems(sandbox.ACCOUNT_ID, data_source, body) == [
        "contentLanguage must be a two-letter ISO 639-1 code",
        "productAttributes.price needs amountMicros and a currencyCode",
    ]
    assert sandbox.product_input_problems(sandbox.ACCOUNT_ID, "accounts/1/dataSources/x", body)


async def test_the_app_serves_the_sandbox_only_when_asked(app: FastAPI, client) -> None:
    path = f"{sandbox.PREFIX}/products/v1/accounts/{sandbox.ACCOUNT_ID}/productInputs:insert"
    assert (await client.post(path, json={})).status_code == 404  # the suite's app: off
    enabled = create_app(get_settings().model_copy(update={"google_sandbox": True}))
    transport = httpx.ASGITransport(app=enabled)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        refused = await http.post(path, json={})
    assert refused.status_code == 401
    assert refused.json()["error"]["status"] == "UNAUTHENTICATED"


def test_production_refuses_the_sandbox() -> None:
    settings = Settings(
        env="production",
        secret_key="s" * 48,
        metrics_token="m" * 32,
        database_url="postgresql://db/mercato",
        redis_url="redis://cache",
        google_sandbox=True,
    )
    with pytest.raises(MissingSecretError, match="MERCATO_GOOGLE_SANDBOX"):
        settings.check_production_secrets()


async def test_the_sandbox_lists_what_it_keeps_with_statuses_and_local_inventory(
    http: httpx.AsyncClient,
) -> None:
    """The demo's item statuses and local inventory: the real client against the sandbox."""
    client = _client(http, sandbox.sandbox_access_token())
    offers = [f"SANDBOX-{n}" for n in range(30)]
    outcomes = await client.push(TARGET, [clean_item(offer) for offer in offers])
    assert all(outcome.ok for outcome in outcomes)
    listed = {product["offerId"]: product async for product in client.list_products(TARGET)}
    assert set(offers) <= set(listed)
    verdicts = {offer: item_status(listed[offer])[0] for offer in offers}
    assert {"approved", "disapproved"} <= set(verdicts.values())
    disapproved = next(offer for offer, verdict in verdicts.items() if verdict == "disapproved")
    _, issues = item_status(listed[disapproved])
    assert issues[0]["code"] == "image_link_broken"
    assert fix_for(issues[0]["code"])

    body = local_inventory(clean_item(offers[0]), TARGET, "STORE-1", 3)
    assert (await client.insert_local_inventory(TARGET, offers[0], body)).ok
    assert (await client.delete_local_inventory(TARGET, offers[0], "STORE-1")).ok
    again = await client.delete_local_inventory(TARGET, offers[0], "STORE-1")
    assert (again.ok, again.status_code) == (True, 404)  # already gone counts as done
    assert (await client.delete_product_input(TARGET, offers[0])).ok
    remaining = {product["offerId"] async for product in client.list_products(TARGET)}
    assert offers[0] not in remaining


async def test_the_demo_push_shows_statuses_and_local_inventory_in_the_sandbox(
    empty_sandbox: None, client, monkeypatch, taxonomy_in_database
) -> None:
    """What `serve --demo` sets up (`demo/channels.py`), run by the worker over real HTTP
    against the sandbox: a push with local inventory per store, then statuses read back."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    shop = await build_shop(client, tenant, owner)
    store = await client.put(
        shop.url("/locations/STO"),
        json={"name": "Stockholm", "kind": "store"},
        headers=owner.headers,
    )
    assert store.status_code == 201, store.text
    stock = await client.put(
        shop.url("/inventory/clean-1/STO"), json={"on_hand": 6}, headers=owner.headers
    )
    assert stock.status_code == 200, stock.text
    served = FastAPI()
    served.include_router(sandbox.router)
    async with serve(served) as base_url:
        monkeypatch.setenv("MERCATO_GOOGLE_MERCHANT_API_URL", base_url + sandbox.PREFIX)
        get_settings.cache_clear()
        async with get_database().tenant_session(uuid.UUID(tenant)) as session:
            account_id = await link_merchant_sandbox(session, uuid.UUID(tenant), "system:demo")
            assert await link_sandbox_stores(session, uuid.UUID(tenant)) == 1
            await queue_push(
                session,
                uuid.UUID(tenant),
                account_id=account_id,
                requested_by="system:demo",
                trigger="manual",
            )
            await queue_status_read(session, uuid.UUID(tenant), 0)
        await run_queued_jobs("channels")
    monkeypatch.undo()
    get_settings.cache_clear()

    listed = await client.get(shop.url("/feed/items?limit=500"), headers=owner.headers)
    items = {row["product_id"]: row for row in listed.json()["data"]}
    assert set(VALID) == set(items)
    assert all(row["checked_at"] for row in items.values())
    verdicts = {
        offer: item_status({"productStatus": sandbox.product_status(offer, "US")})[0]
        for offer in VALID
    }
    assert {offer: row["status"] for offer, row in items.items()} == verdicts
    dashboard = await signed_in(client, owner)
    page = await dashboard.get(f"/app/t/{tenant}/channels")
    assert 'data-local="STO">1<' in page.text
