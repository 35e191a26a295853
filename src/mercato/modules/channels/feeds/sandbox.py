"""A Merchant API sandbox for development: `productInputs.insert`, served by Mercato itself.

The demo has no Google account, yet a merchant trying Mercato should see a feed push run:
products checked, sent over HTTP with a bearer token, answered per item, the job history
filled. With `MERCATO_GOOGLE_SANDBOX=true` (development only; `serve --demo` turns it on
when no Google client is configured) the app serves this endpoint under `/sandbox/google`
and the demo points `MERCATO_GOOGLE_MERCHANT_API_URL` at it, so the push job runs exactly
the production code path against it. Like Stripe's test mode it checks what Google checks
on the request's shape (token, data source, required attributes, price in micros) and
answers in Google's error format; it stores nothing. Production refuses the setting.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mercato.settings import get_settings

PREFIX = "/sandbox/google"
ACCOUNT_ID = "1000000001"
DATA_SOURCE_ID = "mercato-demo"
GOOGLE_EMAIL = "sandbox@merchant-center.invalid"
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_MICROS = re.compile(r"^[0-9]{1,18}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_REQUIRED_ATTRIBUTES = ("title", "link", "imageLink", "availability", "price")

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


@router.post("/products/v1/accounts/{account_id}/productInputs:insert")
async def insert_product_input(account_id: str, request: Request) -> JSONResponse:
    expected = f"Bearer {sandbox_access_token()}"
    if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
        return _google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
    if account_id != ACCOUNT_ID:
        return _google_error(403, "PERMISSION_DENIED", f"No access to account {account_id}.")
    try:
        body = await request.json()
    except ValueError:
        return _google_error(400, "INVALID_ARGUMENT", "The body is not JSON.")
    problems = product_input_problems(account_id, request.query_params.get("dataSource"), body)
    if problems:
        return _google_error(400, "INVALID_ARGUMENT", "; ".join(problems))
    name = f"{body['contentLanguage']}~{body['feedLabel']}~{body['offerId']}"
    return JSONResponse(
        {
            "name": f"accounts/{account_id}/productInputs/{name}",
            "product": f"accounts/{account_id}/products/{name}",
            **body,
        }
    )
