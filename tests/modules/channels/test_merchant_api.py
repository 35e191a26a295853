from __future__ import annotations

import json
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest
from google.shopping.merchant_inventories_v1 import LocalInventory

from mercato.modules.channels import (
    MerchantApiClient,
    MerchantTarget,
    RetryPolicy,
    product_input,
)
from mercato.modules.channels.feeds.local_inventory import local_inventory
from mercato.modules.channels.feeds.merchant_api import product_name
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


class TestQuotaAndDeletes:
    async def test_a_short_retry_after_is_waited_out_and_the_call_succeeds(self) -> None:
        fake = FakeGoogle(quota_exhausted_calls=1, retry_after="0")
        async with serve(fake) as api, httpx.AsyncClient() as http:
            [outcome] = await client(http, api).push(target(api), [clean_item("SKU-1")])
        assert (outcome.ok, outcome.attempts, outcome.retry_after) == (True, 2, None)

    @pytest.mark.parametrize("as_date", [False, True])
    async def test_a_long_retry_after_is_returned_not_slept(self, as_date: bool) -> None:
        later = datetime.now(UTC) + timedelta(minutes=10)
        header = format_datetime(later, usegmt=True) if as_date else "600"
        fake = FakeGoogle(quota_exhausted_calls=5, retry_after=header)
        async with serve(fake) as api, httpx.AsyncClient() as http:
            [outcome] = await client(http, api).push(target(api), [clean_item("SKU-1")])
        assert (outcome.ok, outcome.status_code, outcome.attempts) == (False, 429, 1)
        assert outcome.retry_after is not None
        assert 590 <= outcome.retry_after <= 600
        assert fake.quota_exhausted_calls == 4  # one call, no sleeping retries

    async def test_a_delete_names_the_product_input_and_a_missing_one_counts_as_done(self) -> None:
        fake = FakeGoogle()
        odd = "SKU/1 ä"  # not URL-safe: named by its base64url encoding
        async with serve(fake) as api, httpx.AsyncClient() as http:
            merchant = client(http, api)
            await merchant.push(target(api), [clean_item("SKU-1"), clean_item(odd)])
            gone = [await merchant.delete_product_input(target(api), o) for o in ("SKU-1", odd)]
            again = await merchant.delete_product_input(target(api), "SKU-1")
        assert [o.ok for o in gone] == [True, True]
        assert fake.deleted == ["SKU-1", odd]
        assert (again.ok, again.status_code) == (True, 404)
        assert not fake.unexpected
        assert product_name(target(api), odd) == "ZW5-REV-U0tVLzEgw6Q"

    async def test_local_inventory_is_a_google_local_inventory(self) -> None:
        fake = FakeGoogle()
        item = clean_item("SKU-1", price=Decimal("20.00"), sale_price=Decimal("15.00"))
        async with serve(fake) as api, httpx.AsyncClient() as http:
            body = local_inventory(item, target(api), "STO-1", 7)
            outcome = await client(http, api).insert_local_inventory(target(api), "SKU-1", body)
        assert outcome.ok, outcome.error
        sent = LocalInventory.from_json(json.dumps(fake.local_inventories[("SKU-1", "STO-1")]))
        attributes = sent.local_inventory_attributes
        assert (sent.store_code, attributes.quantity) == ("STO-1", 7)
        assert attributes.availability.name == "IN_STOCK"
        assert (attributes.price.amount_micros, attributes.sale_price.amount_micros) == (
            20_000_000,
            15_000_000,
        )
