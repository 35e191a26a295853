"""The development Merchant API sandbox: the real push client against it, and where it runs."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from mercato.app import create_app
from mercato.modules.channels import MerchantApiClient, MerchantTarget, RetryPolicy
from mercato.modules.channels.feeds import sandbox
from mercato.settings import MissingSecretError, Settings, get_settings
from tests.modules.channels.factories import clean_item

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
async def http() -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(sandbox.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
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
