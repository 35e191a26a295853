"""A Merchant API sandbox for development, served by Mercato itself: `productInputs.insert`
and `.delete`, `products.list` with item statuses, `localInventories.insert` and `.delete`.

The demo has no Google account, yet a merchant trying Mercato should see a feed push run:
products checked, sent over HTTP with a bearer token, answered per item, the job history
filled, then Google's verdict per item and the stock per store. With
`MERCATO_GOOGLE_SANDBOX=true` (development only; `serve --demo` turns it on when no Google
client is configured) the app serves these endpoints under `/sandbox/google` and the demo
points `MERCATO_GOOGLE_MERCHANT_API_URL` at it, so the push job runs exactly
the production code path against it. Like Stripe's test mode it checks what Google checks
on the request's shape (token, data source, required attributes, price in micros) and
answers in Google's error format. What it accepts it keeps in Redis (under the global tag,
a day at most), so `products.list` can answer with a status per item: a stable tenth of
the products is disapproved for a broken image and another tenth still pending, to show
what a disapproval looks like. Production refuses the setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mercato.kernel.redis import get_redis, tenant_key
from mercato.settings import get_settings

PREFIX = "/sandbox/google"
ACCOUNT_ID = "1000000001"
DATA_SOURCE_ID = "mercato-demo"
GOOGLE_EMAIL = "sandbox@merchant-center.invalid"
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_MICROS = re.compile(r"^[0-9]{1,18}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_REQUIRED_ATTRIBUTES = ("title", "link", "imageLink", "availability", "price")
_LOCAL_AVAILABILITY = {"IN_STOCK", "LIMITED_AVAILABILITY", "ON_DISPLAY_TO_ORDER", "OUT_OF_STOCK"}
KEPT_S = 24 * 3600
PAGE_MAX = 1000

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def sandbox_access_token() -> str:
    """The one token the sandbox accepts: derived from the server secret, so it is stable
    across restarts and differs between deployments."""
    secret = get_settings().secret_key.get_secret_value().encode()
    return "sandbox-" + hmac.new(secret, b"google-sandbox-token", hashlib.sha256).hexdigest()


def _google_error(code: int, status: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "status": status}}, code)


def product_input_problems(account_id: str, data_source: str | None, body: Any) -> list[str]:
    """What Google would refuse in this request; empty when the product input is well formed."""
    if data_source != f"accounts/{account_id}/dataSources/{DATA_SOURCE_ID}":
        return [f"dataSource must be accounts/{account_id}/dataSources/{DATA_SOURCE_ID}"]
    if not isinstance(body, dict):
        return ["the body must be a ProductInput object"]
    problems = []
    if not str(body.get("offerId") or "").strip():
        problems.append("offerId is required")
    if not _LANGUAGE.match(str(body.get("contentLanguage") or "")):
        problems.append("contentLanguage must be a two-letter ISO 639-1 code")
    if not str(body.get("feedLabel") or "").strip():
        problems.append("feedLabel is required")
    attributes = body.get("productAttributes")
    if not isinstance(attributes, dict):
        return [*problems, "productAttributes is required"]
    problems += [
        f"productAttributes.{name} is required"
        for name in _REQUIRED_ATTRIBUTES
        if not attributes.get(name)
    ]
    price = attributes.get("price")
    if isinstance(price, dict) and not (
        _MICROS.match(str(price.get("amountMicros", "")))
        and _CURRENCY.match(str(price.get("currencyCode", "")))
    ):
        problems.append("productAttributes.price needs amountMicros and a currencyCode")
    return problems


def _refusal(request: Request, account_id: str) -> JSONResponse | None:
    expected = f"Bearer {sandbox_access_token()}"
    if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
        return _google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
    if account_id != ACCOUNT_ID:
        return _google_error(403, "PERMISSION_DENIED", f"No access to account {account_id}.")
    return None


def store_key(account_id: str, kind: str) -> str:
    """Where the sandbox keeps an account's `products` or `local` inventories."""
    return tenant_key(None, "google-sandbox", account_id, kind)


def _offer_id(name: str) -> str | None:
    """The offer id of a `lang~label~offer` product name, plain or unpadded base64url."""
    if "~" not in name:
        try:
            name = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    parts = name.split("~", 2)
    return parts[2] if len(parts) == 3 and parts[2] else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _keep(key: str, field: str, body: dict[str, Any]) -> None:
    redis = get_redis()
    await redis.hset(key, field, json.dumps(body))
    await redis.expire(key, KEPT_S)


def product_status(offer_id: str, feed_label: str) -> dict[str, Any]:
    """The sandbox's verdict on a product, stable per offer id: a tenth disapproved (a broken
    image), a tenth pending review, the rest approved (some with a warning)."""
    bucket = hashlib.sha256(offer_id.encode()).digest()[0] % 10
    country = feed_label if re.fullmatch(r"[A-Z]{2}", feed_label) else "US"
    if bucket == 0:
        return {
            "destinationStatuses": [
                {"reportingContext": "SHOPPING_ADS", "disapprovedCountries": [country]},
                {"reportingContext": "FREE_LISTINGS", "disapprovedCountries": [country]},
            ],
            "itemLevelIssues": [
                {
                    "code": "image_link_broken",
                    "severity": "DISAPPROVED",
                    "resolution": "merchant_action",
                    "attribute": "image_link",
                    "reportingContext": "SHOPPING_ADS",
                    "description": "Invalid image [image link]",
                    "applicableCountries": [country],
                }
            ],
        }
    if bucket == 1:
        return {
            "destinationStatuses": [
                {"reportingContext": "SHOPPING_ADS", "pendingCountries": [country]}
            ]
        }
    status: dict[str, Any] = {
        "destinationStatuses": [
            {"reportingContext": "SHOPPING_ADS", "approvedCountries": [country]},
            {"reportingContext": "FREE_LISTINGS", "approvedCountries": [country]},
        ]
    }
    if bucket == 2:
        status["itemLevelIssues"] = [
            {
                "code": "missing_shipping",
                "severity": "DEMOTED",
                "resolution": "merchant_action",
                "reportingContext": "SHOPPING_ADS",
                "description": "Missing shipping information",
                "applicableCountries": [country],
            }
        ]
    return status


@router.post("/products/v1/accounts/{account_id}/productInputs:insert")
async def insert_product_input(account_id: str, request: Request) -> JSONResponse:
    refused = _refusal(request, account_id)
    if refused is not None:
        return refused
    try:
        body = await request.json()
    except ValueError:
        return _google_error(400, "INVALID_ARGUMENT", "The body is not JSON.")
    problems = product_input_problems(account_id, request.query_params.get("dataSource"), body)
    if problems:
        return _google_error(400, "INVALID_ARGUMENT", "; ".join(problems))
    await _keep(store_key(account_id, "products"), str(body["offerId"]), body)
    name = f"{body['contentLanguage']}~{body['feedLabel']}~{body['offerId']}"
    return JSONResponse(
        {
            "name": f"accounts/{account_id}/productInputs/{name}",
            "product": f"accounts/{account_id}/products/{name}",
            **body,
        }
    )


@router.delete("/products/v1/accounts/{account_id}/productInputs/{name}")
async def delete_product_input(account_id: str, name: str, request: Request) -> Response:
    refused = _refusal(request, account_id)
    if refused is not None:
        return refused
    offer_id = _offer_id(name)
    if offer_id is None:
        return _google_error(400, "INVALID_ARGUMENT", "The product input name is malformed.")
    if not await get_redis().hdel(store_key(account_id, "products"), offer_id):
        return _google_error(404, "NOT_FOUND", "No such product input.")
    return JSONResponse({})


@router.get("/products/v1/accounts/{account_id}/products")
async def list_products(account_id: str, request: Request) -> JSONResponse:
    refused = _refusal(request, account_id)
    if refused is not None:
        return refused
    try:
        size = min(int(request.query_params.get("pageSize", "25")), PAGE_MAX)
        start = int(request.query_params.get("pageToken") or 0)
    except ValueError:
        return _google_error(400, "INVALID_ARGUMENT", "pageSize and pageToken are numbers.")
    stored = await get_redis().hgetall(store_key(account_id, "products"))
    kept = {_text(offer): _text(body) for offer, body in stored.items()}
    offers = sorted(kept)
    products = []
    for offer_id in offers[start : start + size]:
        body = json.loads(kept[offer_id])
        name = f"{body['contentLanguage']}~{body['feedLabel']}~{body['offerId']}"
        products.append(
            {
                "name": f"accounts/{account_id}/products/{name}",
                "offerId": body["offerId"],
                "contentLanguage": body["contentLanguage"],
                "feedLabel": body["feedLabel"],
                "dataSource": f"accounts/{account_id}/dataSources/{DATA_SOURCE_ID}",
                "productAttributes": body.get("productAttributes", {}),
                "productStatus": product_status(str(body["offerId"]), str(body["feedLabel"])),
            }
        )
    answer: dict[str, Any] = {"products": products}
    if start + size < len(offers):
        answer["nextPageToken"] = str(start + size)
    return JSONResponse(answer)


@router.post("/inventories/v1/accounts/{account_id}/products/{product}/localInventories:insert")
async def insert_local_inventory(account_id: str, product: str, request: Request) -> JSONResponse:
    refused = _refusal(request, account_id)
    if refused is not None:
        return refused
    offer_id = _offer_id(product)
    try:
        body = await request.json()
    except ValueError:
        return _google_error(400, "INVALID_ARGUMENT", "The body is not JSON.")
    attributes = body.get("localInventoryAttributes") if isinstance(body, dict) else None
    if offer_id is None or not isinstance(attributes, dict) or not body.get("storeCode"):
        return _google_error(400, "INVALID_ARGUMENT", "storeCode and attributes are required.")
    if attributes.get("availability") not in _LOCAL_AVAILABILITY:
        return _google_error(400, "INVALID_ARGUMENT", "availability is required.")
    await _keep(store_key(account_id, "local"), f"{offer_id}~{body['storeCode']}", body)
    return JSONResponse(body)


@router.delete(
    "/inventories/v1/accounts/{account_id}/products/{product}/localInventories/{store_code}"
)
async def delete_local_inventory(
    account_id: str, product: str, store_code: str, request: Request
) -> Response:
    refused = _refusal(request, account_id)
    if refused is not None:
        return refused
    offer_id = _offer_id(product)
    gone = offer_id and await get_redis().hdel(
        store_key(account_id, "local"), f"{offer_id}~{store_code}"
    )
    if not gone:
        return _google_error(404, "NOT_FOUND", "No such local inventory.")
    return JSONResponse({})
