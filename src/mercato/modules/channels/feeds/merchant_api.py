"""Google's Merchant API: product inputs, product statuses and local inventories (v1).

The Content API for Shopping is sunset; its successor takes one `ProductInput` per call:
`POST {base}/products/v1/accounts/{account}/productInputs:insert?dataSource=accounts/
{account}/dataSources/{datasource}` with the merchant's OAuth bearer token, removes one
with `DELETE …/productInputs/{lang~label~offer}?dataSource=…`, lists processed products
with their status (`GET …/products`), and keeps a product's stock per store with
`POST {base}/inventories/v1/accounts/{account}/products/{product}/localInventories:insert`
and `DELETE …/localInventories/{storeCode}`. Google answers 429 and 5xx when it is busy,
so those and broken connections are retried with exponential backoff and full jitter
(honouring `Retry-After`, in seconds or as an HTTP date); a `Retry-After` longer than the
policy's `max_delay` is not slept through but returned, so a job can reschedule itself.
Any other answer is final for that call. The client never validates: callers push
`precheck.valid_items(...)`.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from mercato.kernel import egress
from mercato.modules.channels.feeds.item import (
    AVAILABILITIES_NEEDING_DATE,
    FeedItem,
    availability_timestamp,
    effective_availability,
    effective_condition,
    has_unique_identifiers,
    valid_gtin,
)

DEFAULT_BASE_URL = "https://merchantapi.googleapis.com"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_MAX_ERROR_TEXT = 500
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9._~-]+$")
LIST_PAGE_SIZE = 1000
_jitter = secrets.SystemRandom()

TokenSource = Callable[[], Awaitable[str]]
"""Returns a valid access token; called before every request so it can refresh in a long push."""


@dataclass(frozen=True, slots=True)
class MerchantTarget:
    """Where products go: a Merchant Center account, its API data source, language, label."""

    account_id: str
    data_source_id: str
    content_language: str
    feed_label: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient failures are tried up to `max_attempts` times in all (first call included)."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, failed_attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after attempt `failed_attempt` (1-based) failed transiently."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (failed_attempt - 1))
        backoff = _jitter.uniform(0, ceiling)
        if retry_after is not None:
            return min(self.max_delay, max(backoff, retry_after))
        return backoff


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What happened to one call about an item: `ok`, how many calls it took, Google's error
    if not, and `retry_after` (seconds) when Google's quota said to come back later."""

    product_id: str
    ok: bool
    attempts: int
    status_code: int | None
    error: str | None
    retry_after: float | None = None


class MerchantApiError(Exception):
    """A listing call failed for good; `status_code` is None when Google was unreachable."""

    def __init__(self, status_code: int | None, error: str, retry_after: float | None) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.retry_after = retry_after


def product_name(target: MerchantTarget, offer_id: str) -> str:
    """`{contentLanguage}~{feedLabel}~{offerId}`, Google's id of a product in an account;
    unpadded base64url when the offer id holds characters a URL path cannot carry."""
    name = f"{target.content_language}~{target.feed_label}~{offer_id}"
    if _PLAIN_NAME.match(name):
        return name
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def product_input(item: FeedItem, target: MerchantTarget) -> dict[str, Any]:
    """The `ProductInput` JSON for an item: offerId, contentLanguage, feedLabel and its
    `productAttributes`, with the same derivations as the hosted feed."""
    attributes: dict[str, Any] = {
        "title": (item.name or "").strip(),
        "description": (item.description or "").strip(),
        "link": (item.link or "").strip(),
        "imageLink": (item.image_url or "").strip(),
        "condition": effective_condition(item).upper(),
    }
    availability = effective_availability(item)
    if availability:
        attributes["availability"] = availability.upper()
        if item.availability_date is not None and availability in AVAILABILITIES_NEEDING_DATE:
            attributes["availabilityDate"] = availability_timestamp(item.availability_date)
    currency = (item.currency or "").strip().upper()
    if item.price is not None:
        attributes["price"] = _price(item.price, currency)
        sale = item.sale_price
        if sale is not None and sale.is_finite() and 0 < sale < item.price:
            attributes["salePrice"] = _price(sale, currency)
    optional_texts = (("brand", item.brand), ("mpn", item.mpn), ("itemGroupId", item.item_group_id))
    for name, value in optional_texts:
        if value and value.strip():
            attributes[name] = value.strip()
    gtin = valid_gtin(item)
    if gtin:
        attributes["gtins"] = [gtin]
    if not has_unique_identifiers(item, gtin):
        attributes["identifierExists"] = False
    if item.google_category_id is not None:
        attributes["googleProductCategory"] = str(item.google_category_id)
    return {
        "offerId": item.product_id.strip(),
        "contentLanguage": target.content_language,
        "feedLabel": target.feed_label,
        "productAttributes": attributes,
    }


class MerchantApiClient:
    """Inserts product inputs with bounded parallelism and retries of transient failures.

    The caller owns `http` (an `httpx.AsyncClient`, with its timeouts) and closes it.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: TokenSource,
        *,
        base_url: str = DEFAULT_BASE_URL,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._http = http
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._concurrency = concurrency
        self._retry = retry or RetryPolicy()

    async def insert_product_input(self, target: MerchantTarget, item: FeedItem) -> PushOutcome:
        """Insert (or replace) one item; retries transient failures, never raises for HTTP."""
        url = f"{self._base_url}/products/v1/accounts/{target.account_id}/productInputs:insert"
        body = product_input(item, target)
        return await self._call("POST", url, item.product_id, _data_source(target), body)

    async def delete_product_input(self, target: MerchantTarget, offer_id: str) -> PushOutcome:
        """Remove the product input `offer_id` from the account; a 404 counts as done."""
        name = quote(product_name(target, offer_id), safe="~")
        url = f"{self._base_url}/products/v1/accounts/{target.account_id}/productInputs/{name}"
        outcome = await self._call("DELETE", url, offer_id, _data_source(target), None)
        if outcome.status_code == 404:
            return PushOutcome(offer_id, True, outcome.attempts, 404, None)
        return outcome

    async def insert_local_inventory(
        self, target: MerchantTarget, offer_id: str, body: dict[str, Any]
    ) -> PushOutcome:
        """Insert (or replace) the local inventory `body` (a `LocalInventory`) of one product."""
        url = f"{self._product_url(target, offer_id)}/localInventories:insert"
        return await self._call("POST", url, offer_id, None, body)

    async def delete_local_inventory(
        self, target: MerchantTarget, offer_id: str, store_code: str
    ) -> PushOutcome:
        """Stop advertising one product at one store; a 404 counts as done."""
        url = f"{self._product_url(target, offer_id)}/localInventories/{quote(store_code, safe='')}"
        outcome = await self._call("DELETE", url, offer_id, None, None)
        if outcome.status_code == 404:
            return PushOutcome(offer_id, True, outcome.attempts, 404, None)
        return outcome

    async def list_products(self, target: MerchantTarget) -> AsyncIterator[dict[str, Any]]:
        """Every processed product of the account (`Product` JSON with `productStatus`),
        page by page; raises `MerchantApiError` when a page cannot be read."""
        url = f"{self._base_url}/products/v1/accounts/{target.account_id}/products"
        token = ""
        while True:
            params = {"pageSize": str(LIST_PAGE_SIZE)} | ({"pageToken": token} if token else {})
            response, outcome = await self._send("GET", url, target.account_id, params, None)
            if response is None:
                raise MerchantApiError(
                    outcome.status_code, outcome.error or "", outcome.retry_after
                )
            page = response.json()
            for product in page.get("products") or []:
                yield product
            token = str(page.get("nextPageToken") or "")
            if not token:
                return

    def _product_url(self, target: MerchantTarget, offer_id: str) -> str:
        name = quote(product_name(target, offer_id), safe="~")
        return f"{self._base_url}/inventories/v1/accounts/{target.account_id}/products/{name}"

    async def _call(
        self,
        method: str,
        url: str,
        subject: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
    ) -> PushOutcome:
        _, outcome = await self._send(method, url, subject, params, body)
        return outcome

    async def _send(
        self,
        method: str,
        url: str,
        subject: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
    ) -> tuple[httpx.Response | None, PushOutcome]:
        """One call with retries: the successful response (else None) and its outcome."""
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                token = await self._token()
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                status, error = None, egress.public_message(exc)
            else:
                if response.is_success:
                    return response, PushOutcome(subject, True, attempt, response.status_code, None)
                status, error = response.status_code, _error_text(response)
                if status not in RETRYABLE_STATUSES:
                    return None, PushOutcome(subject, False, attempt, status, error)
                retry_after = _retry_after_seconds(response)
                if retry_after is not None and retry_after > self._retry.max_delay:
                    return None, PushOutcome(subject, False, attempt, status, error, retry_after)
            if attempt >= self._retry.max_attempts:
                later = retry_after if status == 429 else None
                return None, PushOutcome(subject, False, attempt, status, error, later)
            await asyncio.sleep(self._retry.delay(attempt, retry_after))

    async def push(self, target: MerchantTarget, items: Iterable[FeedItem]) -> list[PushOutcome]:
        """Insert every item, at most `concurrency` requests in flight; outcomes in input order."""
        return await self.run(_insert_calls(self, target, items))

    async def run(self, calls: Iterable[Callable[[], Awaitable[PushOutcome]]]) -> list[PushOutcome]:
        """Make every call, at most `concurrency` in flight; outcomes in input order.

        A fixed pool of workers draws from one iterator, so a 100,000-item push holds only
        `concurrency` requests and the outcomes, never a task per item. Whatever the token
        source raises (say, a revoked Google link) stops the run: the other requests are
        cancelled and that exception propagates unchanged.
        """
        source = enumerate(calls)
        outcomes: dict[int, PushOutcome] = {}

        async def worker() -> None:
            for index, call in source:
                outcomes[index] = await call()

        workers = [asyncio.create_task(worker()) for _ in range(self._concurrency)]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        return [outcomes[index] for index in range(len(outcomes))]


def _insert_calls(
    client: MerchantApiClient, target: MerchantTarget, items: Iterable[FeedItem]
) -> Iterator[Callable[[], Awaitable[PushOutcome]]]:
    for item in items:

        async def call(item: FeedItem = item) -> PushOutcome:
            return await client.insert_product_input(target, item)

        yield call


def _price(amount: Decimal, currency: str) -> dict[str, str]:
    micros = (amount * 1_000_000).to_integral_value(rounding=ROUND_HALF_UP)
    return {"amountMicros": str(int(micros)), "currencyCode": currency}


def _error_text(response: httpx.Response) -> str:
    """Google's structured `{"error": {"status", "message"}}` as one line, else the status.

    Google's message about an item (a bad GTIN, a missing price) is what the merchant must
    fix, so it is kept — but only from Merchant API's own JSON error shape, never a raw body.
    """
    try:
        payload = response.json()
    except ValueError:
        payload = None
    reason = httpx.codes.get_reason_phrase(response.status_code)
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        text = f"{response.status_code} {error.get('status') or reason}: {error.get('message', '')}"
    else:
        text = f"{response.status_code} {reason}"
    return text.strip()[:_MAX_ERROR_TEXT]


def _data_source(target: MerchantTarget) -> dict[str, str]:
    return {"dataSource": f"accounts/{target.account_id}/dataSources/{target.data_source_id}"}


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds: a number of seconds, or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
