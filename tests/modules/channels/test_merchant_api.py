from __future__ import annotations

import socket
from datetime import date
from decimal import Decimal

import httpx
import pytest

from mercato.modules.channels import (
    MerchantApiClient,
    MerchantTarget,
    RetryPolicy,
    product_input,
)
from tests.fakes.google import FakeGoogle, serve
from tests.modules.channels.factories import VALID_GTIN, clean_item

FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def target(api: FakeGoogle) -> MerchantTarget:
    return MerchantTarget(
        account_id=api.account,
        data_source_id=api.data_source,
        content_language="en",
        feed_label="DE",
    )


def client(
    http: httpx.AsyncClient, api: FakeGoogle, *, token: str | None = None, concurrency: int = 4
) -> MerchantApiClient:
    async def access_token() -> str:
        return token or api.token

    return MerchantApiClient(
        http, access_token, base_url=api.base_url, concurrency=concurrency, retry=FAST_RETRY
    )


class TestProductInput:
    def test_the_body_follows_the_merchant_api_product_input(self) -> None:
        item = clean_item(
            "SKU-1",
            sale_price=Decimal("749.99"),
            item_group_id="OSLO",
            availability="backorder",
            availability_date=date(2031, 2, 1),
            condition="refurbished",
        )
        body = product_input(item, MerchantTarget("1", "2", "en", "DE"))
        assert body == {
            "offerId": "SKU-1",
            "contentLanguage": "en",
            "feedLabel": "DE",
            "productAttributes": {
                "title": "Oslo 3-seat sofa, grey",
                "description": "A deep three-seat sofa with removable covers.",
                "link": "https://shop.example.com/p/SKU-1",
                "imageLink": "https://cdn.example.com/img/SKU-1.jpg",
                "condition": "REFURBISHED",
                "availability": "BACKORDER",
                "availabilityDate": "2031-02-01T00:00:00Z",
                "price": {"amountMicros": "899000000", "currencyCode": "EUR"},
                "salePrice": {"amountMicros": "749990000", "currencyCode": "EUR"},
                "brand": "Nordhus",
                "mpn": "NH-OSLO-3",
                "itemGroupId": "OSLO",
                "gtins": [VALID_GTIN],
                "googleProductCategory": "460",
            },
        }

    def test_items_without_identifiers_say_so(self) -> None:
        item = clean_item(gtin=None, mpn=None, brand=None, stock_quantity=0, currency="eur")
        attributes = product_input(item, MerchantTarget("1", "2", "en", "DE"))["productAttributes"]
        assert attributes["identifierExists"] is False
        assert attributes["availability"] == "OUT_OF_STOCK"
        assert attributes["price"]["currencyCode"] == "EUR"
        assert "gtins" not in attributes
        assert "brand" not in attributes


class TestPush:
    async def test_valid_items_are_inserted_with_the_documented_request_shape(self) -> None:
        async with serve(FakeGoogle()) as api, httpx.AsyncClient() as http:
            items = [clean_item(f"SKU-{i}") for i in range(6)]
            outcomes = await client(http, api).push(target(api), items)
        assert [(o.product_id, o.ok, o.attempts, o.error) for o in outcomes] == [
            (f"SKU-{i}", True, 1, None) for i in range(6)
        ]
        assert set(api.accepted) == {f"SKU-{i}" for i in range(6)}
        assert api.accepted["SKU-3"] == product_input(items[3], target(api))

    async def test_a_503_is_retried_then_succeeds(self) -> None:
        fake = FakeGoogle(fail_first_with_503={"SKU-1"})
        async with serve(fake) as api, httpx.AsyncClient() as http:
            outcomes = await client(http, api).push(
                target(api), [clean_item("SKU-0"), clean_item("SKU-1")]
            )
        assert [(o.ok, o.attempts, o.status_code) for o in outcomes] == [
            (True, 1, 200),
            (True, 2, 200),
        ]
        assert api.calls["SKU-1"] == 2
        assert "SKU-1" in api.accepted

    async def test_a_rejected_item_is_recorded_and_the_others_go_through(self) -> None:
        fake = FakeGoogle(reject={"SKU-1": "[price] Invalid value"})
        async with serve(fake) as api, httpx.AsyncClient() as http:
            outcomes = await client(http, api).push(
                target(api), [clean_item(f"SKU-{i}") for i in range(3)]
            )
        failed = outcomes[1]
        assert (failed.product_id, failed.ok, failed.attempts, failed.status_code) == (
            "SKU-1",
            False,
            1,
            400,
        )
        assert failed.error == "400 INVALID_ARGUMENT: [price] Invalid value"
        assert [o.ok for o in outcomes] == [True, False, True]
        assert api.calls["SKU-1"] == 1

    async def test_transient_failures_stop_at_the_attempt_limit(self) -> None:
        async with serve(FakeGoogle(always_503={"SKU-0"})) as api, httpx.AsyncClient() as http:
            [outcome] = await client(http, api).push(target(api), [clean_item("SKU-0")])
        assert (outcome.ok, outcome.attempts, outcome.status_code) == (False, 4, 503)
        assert outcome.error is not None
        assert outcome.error.startswith("503 UNAVAILABLE")
        assert api.calls["SKU-0"] == 4

    async def test_a_wrong_token_is_not_retried(self) -> None:
        async with serve(FakeGoogle()) as api, httpx.AsyncClient() as http:
            [outcome] = await client(http, api, token="expired").push(
                target(api), [clean_item("SKU-0")]
            )
        assert (outcome.ok, outcome.attempts, outcome.status_code) == (False, 1, 401)
        assert outcome.error is not None
        assert "UNAUTHENTICATED" in outcome.error
        assert api.accepted == {}

    async def test_requests_run_in_parallel_within_the_concurrency_limit(self) -> None:
        async with serve(FakeGoogle(delay=0.05)) as api, httpx.AsyncClient() as http:
            outcomes = await client(http, api, concurrency=3).push(
                target(api), (clean_item(f"SKU-{i}") for i in range(12))
            )
        assert all(o.ok for o in outcomes)
        assert [o.product_id for o in outcomes] == [f"SKU-{i}" for i in range(12)]
        assert api.max_in_flight == 3

    async def test_connection_failures_are_retried_and_reported(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = sock.getsockname()[1]
        api = FakeGoogle(base_url=f"http://127.0.0.1:{closed_port}")
        async with httpx.AsyncClient() as http:
            [outcome] = await client(http, api).push(target(api), [clean_item("SKU-0")])
        assert (outcome.ok, outcome.attempts, outcome.status_code) == (False, 4, None)
        assert outcome.error is not None
        assert outcome.error == "could not connect"  # no errno, nothing the network said

    async def test_a_failing_token_source_stops_the_push(self) -> None:
        class LinkRevoked(Exception):
            pass

        async def revoked() -> str:
            raise LinkRevoked

        async with serve(FakeGoogle()) as api, httpx.AsyncClient() as http:
            merchant = MerchantApiClient(http, revoked, base_url=api.base_url)
            with pytest.raises(LinkRevoked):
                await merchant.push(target(api), [clean_item(f"SKU-{i}") for i in range(5)])
        assert api.calls == {}


class TestRetryPolicy:
    def test_backoff_grows_exponentially_with_full_jitter_and_a_ceiling(self) -> None:
        policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=8.0)
        for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0)]:
            delays = [policy.delay(attempt, None) for _ in range(200)]
            assert all(0 <= delay <= ceiling for delay in delays)
            assert max(delays) > ceiling / 2
            assert len(set(delays)) > 100

    def test_retry_after_is_honoured_up_to_the_ceiling(self) -> None:
        policy = RetryPolicy(base_delay=0.1, max_delay=5.0)
        assert 3.0 <= policy.delay(1, 3.0) <= 5.0
        assert policy.delay(1, 60.0) == 5.0

    async def test_concurrency_must_be_positive(self) -> None:
        async def token() -> str:
            return "t"

        async with httpx.AsyncClient() as http:
            with pytest.raises(ValueError, match="concurrency"):
                MerchantApiClient(http, token, concurrency=0)
