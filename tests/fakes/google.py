"""A local stand-in for the Google APIs Mercato calls, served over real HTTP on 127.0.0.1.

One server plays every Google host, each under its own path prefix (tests point the
MERCATO_GOOGLE_* URLs at it):

- OAuth 2.0: `/o/oauth2/v2/auth` (the consent page: redirects back with a code),
  `/token` (authorization_code with a PKCE check, refresh_token), `/revoke`;
- Merchant API `productInputs.insert` and `.delete`, `products.list` (with the status and
  item-level issues a test sets) under `/products/v1/accounts/{account}/…`, and
  `localInventories.insert` / `.delete` under `/inventories/v1/accounts/{account}/…`;
  bodies are parsed with Google's own client types (`google-shopping-merchant-products`,
  `-inventories`), which refuse any field the API does not have;
- Business Profile: `/accountmanagement/v1/accounts`,
  `/businessinformation/v1/accounts/{account}/locations`, `locations.get` and
  `locations.patch` at `/businessinformation/v1/locations/{id}`, `categories.list`,
  `/performance/v1/locations/{id}:fetchMultiDailyMetricsTimeSeries`.

Every API call must carry a bearer token the fake issued and has not revoked or expired;
requests are checked for the shape Google documents. Behaviours for the tests: answer 503
to an item's first call or always, reject an item for good, slow down, expire tokens, and
answer the next N Merchant API calls 429 with a `Retry-After`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from google.shopping.merchant_inventories_v1 import LocalInventory
from google.shopping.merchant_products_v1 import ListProductsResponse, Product, ProductInput
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.server import serve as serve_app

CLIENT_ID = "mercato-test-client.apps.googleusercontent.com"
CLIENT_SECRET = "fake-google-client-secret"
REQUIRED_ATTRIBUTES = ("title", "link", "imageLink", "availability", "price", "condition")
AVAILABILITY_ENUM = {"IN_STOCK", "OUT_OF_STOCK", "PREORDER", "BACKORDER", "LIMITED_AVAILABILITY"}
DAILY_METRICS = {
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
    "BUSINESS_CONVERSATIONS",
    "BUSINESS_DIRECTION_REQUESTS",
    "CALL_CLICKS",
    "WEBSITE_CLICKS",
    "BUSINESS_BOOKINGS",
    "BUSINESS_FOOD_ORDERS",
    "BUSINESS_FOOD_MENU_CLICKS",
}
LOCATION_FIELDS = {
    "name",
    "title",
    "storeCode",
    "storefrontAddress",
    "phoneNumbers",
    "websiteUri",
    "latlng",
}
PATCHABLE_FIELDS = {"regularHours", "specialHours", "categories"}
PATCH_MASKS = {
    "title",
    "storefrontAddress",
    "phoneNumbers.primaryPhone",
    "websiteUri",
    "regularHours",
    "specialHours",
    "categories",
}
WEEK = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}


@dataclass
class FakeGoogle:
    account: str = "1234567"
    data_source: str = "9876"
    token: str = "ya29.test-token"
    email: str = "merchant@shop.example"
    token_ttl_s: int = 3600
    fail_first_with_503: set[str] = field(default_factory=set)
    always_503: set[str] = field(default_factory=set)
    reject: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    deny_consent: bool = False
    token_endpoint_down: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    base_url: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    business_accounts: list[dict[str, str]] = field(default_factory=list)
    business_locations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    daily_metrics: dict[str, dict[str, dict[date, int]]] = field(default_factory=dict)
    performance_requests: list[dict[str, Any]] = field(default_factory=list)
    business_categories: dict[str, str] = field(default_factory=dict)  # gcid name → display
    location_patches: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    product_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    local_inventories: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    local_deleted: list[tuple[str, str]] = field(default_factory=list)
    quota_exhausted_calls: int = 0
    retry_after: str = "1"
    merchant_requests: list[tuple[float, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.access_tokens[self.token] = time.time() + self.token_ttl_s

    # -- settings -------------------------------------------------------------------------

    def settings_env(self) -> dict[str, str]:
        """The MERCATO_* variables that point Mercato at this server."""
        return {
            "MERCATO_GOOGLE_CLIENT_ID": CLIENT_ID,
            "MERCATO_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "MERCATO_GOOGLE_OAUTH_AUTHORIZE_URL": f"{self.base_url}/o/oauth2/v2/auth",
            "MERCATO_GOOGLE_OAUTH_TOKEN_URL": f"{self.base_url}/token",
            "MERCATO_GOOGLE_OAUTH_REVOKE_URL": f"{self.base_url}/revoke",
            "MERCATO_GOOGLE_MERCHANT_API_URL": self.base_url,
            "MERCATO_GOOGLE_BUSINESS_ACCOUNTS_URL": f"{self.base_url}/accountmanagement/v1",
            "MERCATO_GOOGLE_BUSINESS_INFORMATION_URL": f"{self.base_url}/businessinformation/v1",
            "MERCATO_GOOGLE_BUSINESS_PERFORMANCE_URL": f"{self.base_url}/performance/v1",
        }

    def expire_access_tokens(self) -> None:
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    # -- OAuth ----------------------------------------------------------------------------

    async def consent(self, request: Request) -> Response:
        params = request.query_params
        problems = [
            f"{name}={params.get(name)!r}"
            for name, ok in (
                ("response_type", params.get("response_type") == "code"),
                ("client_id", params.get("client_id") == CLIENT_ID),
                ("code_challenge_method", params.get("code_challenge_method") == "S256"),
                ("access_type", params.get("access_type") == "offline"),
                ("code_challenge", len(params.get("code_challenge", "")) == 43),
                ("state", bool(params.get("state"))),
                ("redirect_uri", bool(params.get("redirect_uri"))),
            )
            if not ok
        ]
        if problems:
            return JSONResponse({"error": "invalid_request", "problems": problems}, 400)
        back = {"state": params["state"]}
        if self.deny_consent:
            back["error"] = "access_denied"
        else:
            code = "4/" + secrets.token_urlsafe(16)
            self.codes[code] = {
                "challenge": params["code_challenge"],
                "redirect_uri": params["redirect_uri"],
                "scope": params.get("scope", ""),
            }
            back["code"] = code
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", 302)

    async def token_endpoint(self, request: Request) -> JSONResponse:
        if self.token_endpoint_down:
            return JSONResponse({"error": "backend_error"}, 503)
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, 401)
        if form.get("grant_type") == "authorization_code":
            return self._exchange_code(form)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": "Token has been revoked."},
                    400,
                )
            return JSONResponse(self._issue(scope=None, refresh=False))
        return JSONResponse({"error": "unsupported_grant_type"}, 400)

    def _exchange_code(self, form: dict[str, str]) -> JSONResponse:
        pending = self.codes.pop(form.get("code", ""), None)
        if pending is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "Bad code"}, 400)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != pending["challenge"]:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400
            )
        if form.get("redirect_uri") != pending["redirect_uri"]:
            return JSONResponse({"error": "redirect_uri_mismatch"}, 400)
        return JSONResponse(self._issue(scope=pending["scope"], refresh=True))

    def _issue(self, *, scope: str | None, refresh: bool) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[access] = time.time() + self.token_ttl_s
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.token_ttl_s,
            "token_type": "Bearer",
        }
        if scope is not None:
            body["scope"] = scope
            body["id_token"] = jwt.encode(
                {"sub": "1099", "email": self.email, "aud": CLIENT_ID},
                "fake-google-id-token-signing-key-0123456789",
            )
        if refresh:
            body["refresh_token"] = "1//" + secrets.token_urlsafe(24)
            self.refresh_tokens.add(body["refresh_token"])
        return body

    async def revoke(self, request: Request) -> JSONResponse:
        token = str((await request.form()).get("token", ""))
        if token in self.refresh_tokens:
            self.refresh_tokens.discard(token)
            self.access_tokens.clear()
        elif self.access_tokens.pop(token, None) is None:
            return JSONResponse({"error": "invalid_token"}, 400)
        self.revoked.append(token)
        return JSONResponse({})

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme == "Bearer" and self.access_tokens.get(token, 0) > time.time()

    # -- Merchant API ---------------------------------------------------------------------

    def _merchant_gate(self, request: Request) -> JSONResponse | None:
        """The checks every Merchant API call passes: log, quota, account, token."""
        self.merchant_requests.append((time.monotonic(), request.method, request.url.path))
        if self.quota_exhausted_calls > 0:
            self.quota_exhausted_calls -= 1
            response = _error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric.")
            response.headers["Retry-After"] = self.retry_after
            return response
        if request.path_params["account"] != self.account:
            return _error(404, "NOT_FOUND", f"no account {request.path_params['account']}")
        if not self._authorised(request):
            return _error(401, "UNAUTHENTICATED", "missing, wrong or expired bearer token")
        return None

    def _offer(self, request: Request, key: str) -> str | None:
        """The offer id in a `{contentLanguage}~{feedLabel}~{offerId}` product name, plain or
        unpadded base64url; None when it is neither."""
        name = request.path_params[key]
        if "~" not in name:
            try:
                name = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
            except (ValueError, UnicodeDecodeError):
                return None
        parts = name.split("~", 2)
        if len(parts) != 3 or not re.fullmatch(r"[a-z]{2}", parts[0]) or not parts[1]:
            return None
        return parts[2]

    async def delete_input(self, request: Request) -> Response:
        refused = self._merchant_gate(request)
        if refused is not None:
            return refused
        expected_source = f"accounts/{self.account}/dataSources/{self.data_source}"
        if request.query_params.get("dataSource") != expected_source:
            return _error(400, "INVALID_ARGUMENT", "dataSource must name the API data source")
        offer_id = self._offer(request, "name")
        if offer_id is None:
            return _error(400, "INVALID_ARGUMENT", "name must be contentLanguage~feedLabel~offerId")
        if self.accepted.pop(offer_id, None) is None:
            return _error(404, "NOT_FOUND", f"no product input {offer_id}")
        self.deleted.append(offer_id)
        for key in [key for key in self.local_inventories if key[0] == offer_id]:
            del self.local_inventories[key]
        return JSONResponse({})

    async def list_products(self, request: Request) -> JSONResponse:
        refused = self._merchant_gate(request)
        if refused is not None:
            return refused
        size = int(request.query_params.get("pageSize", "25"))
        if not 1 <= size <= 1000:
            return _error(400, "INVALID_ARGUMENT", "pageSize must be 1 to 1000")
        start = int(request.query_params.get("pageToken") or 0)
        offers = sorted(self.accepted)
        page = []
        for offer_id in offers[start : start + size]:
            body = self.accepted[offer_id]
            name = f"{body['contentLanguage']}~{body['feedLabel']}~{offer_id}"
            product = {
                "name": f"accounts/{self.account}/products/{name}",
                "offerId": offer_id,
                "contentLanguage": body["contentLanguage"],
                "feedLabel": body["feedLabel"],
                "dataSource": f"accounts/{self.account}/dataSources/{self.data_source}",
                "productAttributes": body["productAttributes"],
                "productStatus": self.product_status.get(
                    offer_id,
                    {
                        "destinationStatuses": [
                            {"reportingContext": "SHOPPING_ADS", "approvedCountries": ["SE"]}
                        ]
                    },
                ),
            }
            page.append(
                json.loads(
                    Product.to_json(
                        Product.from_json(json.dumps(product)), use_integers_for_enums=False
                    )
                )
            )
        answer: dict[str, Any] = {"products": page}
        if start + size < len(offers):
            answer["nextPageToken"] = str(start + size)
        ListProductsResponse.from_json(json.dumps(answer))
        return JSONResponse(answer)

    async def insert_local(self, request: Request) -> JSONResponse:
        refused = self._merchant_gate(request)
        if refused is not None:
            return refused
        offer_id = self._offer(request, "product")
        if offer_id is None:
            return _error(
                400, "INVALID_ARGUMENT", "product must be contentLanguage~feedLabel~offerId"
            )
        body = await request.json()
        problem = _not_a(LocalInventory, body) or _local_inventory_problem(body)
        if problem:
            return _error(400, "INVALID_ARGUMENT", problem)
        self.local_inventories[(offer_id, body["storeCode"])] = body
        return JSONResponse(body)

    async def delete_local(self, request: Request) -> Response:
        refused = self._merchant_gate(request)
        if refused is not None:
            return refused
        offer_id = self._offer(request, "product")
        store = request.path_params["store"]
        if offer_id is None or self.local_inventories.pop((offer_id, store), None) is None:
            return _error(404, "NOT_FOUND", "no such local inventory")
        self.local_deleted.append((offer_id, store))
        return JSONResponse({})

    async def insert(self, request: Request) -> JSONResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await self._insert(request)
        finally:
            self.in_flight -= 1

    async def _insert(self, request: Request) -> JSONResponse:
        refused = self._merchant_gate(request)
        if refused is not None:
            return refused
        expected_source = f"accounts/{self.account}/dataSources/{self.data_source}"
        if request.query_params.get("dataSource") != expected_source:
            return _error(400, "INVALID_ARGUMENT", "dataSource must name the API data source")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(400, "INVALID_ARGUMENT", "body must be JSON")
        body = await request.json()
        problem = _product_input_problem(body) or _not_a(ProductInput, body)
        if problem:
            return _error(400, "INVALID_ARGUMENT", problem)
        offer_id = body["offerId"]
        self.calls[offer_id] += 1
        if offer_id in self.always_503 or (
            offer_id in self.fail_first_with_503 and self.calls[offer_id] == 1
        ):
            return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
        if offer_id in self.reject:
            return _error(400, "INVALID_ARGUMENT", self.reject[offer_id])
        self.accepted[offer_id] = body
        name = f"accounts/{self.account}/productInputs/en~{body['feedLabel']}~{offer_id}"
        return JSONResponse({**body, "name": name, "product": name.replace("Inputs", "s")})

    # -- Business Profile -----------------------------------------------------------------

    async def accounts(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return _error(401, "UNAUTHENTICATED", "missing, wrong or expired bearer token")
        return JSONResponse({"accounts": self.business_accounts})

    async def locations(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return _error(401, "UNAUTHENTICATED", "missing, wrong or expired bearer token")
        account = request.path_params["account"]
        mask = set(request.query_params.get("readMask", "").split(","))
        if not mask or not mask <= LOCATION_FIELDS:
            return _error(400, "INVALID_ARGUMENT", f"readMask {sorted(mask)} is not valid")
        size = int(request.query_params.get("pageSize", "10"))
        start = int(request.query_params.get("pageToken") or 0)
        everything = self.business_locations.get(account, [])
        page = [
            {key: value for key, value in location.items() if key in mask}
            for location in everything[start : start + size]
        ]
        body: dict[str, Any] = {"locations": page}
        if start + size < len(everything):
            body["nextPageToken"] = str(start + size)
        return JSONResponse(body)

    async def performance(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return _error(401, "UNAUTHENTICATED", "missing, wrong or expired bearer token")
        location = request.path_params["location"]
        params = request.query_params
        metrics = params.getlist("dailyMetrics")
        if not metrics or not set(metrics) <= DAILY_METRICS:
            return _error(400, "INVALID_ARGUMENT", f"dailyMetrics {metrics} are not valid")
        try:
            start, end = (
                date(
                    int(params[f"dailyRange.{edge}_date.year"]),
                    int(params[f"dailyRange.{edge}_date.month"]),
                    int(params[f"dailyRange.{edge}_date.day"]),
                )
                for edge in ("start", "end")
            )
        except (KeyError, ValueError):
            return _error(400, "INVALID_ARGUMENT", "dailyRange must be a valid date range")
        self.performance_requests.append({"location": location, "start": start, "end": end})
        values = self.daily_metrics.get(location, {})
        series = []
        for metric in metrics:
            dated = []
            day = start
            while day <= end:
                point: dict[str, Any] = {
                    "date": {"year": day.year, "month": day.month, "day": day.day}
                }
                count = values.get(metric, {}).get(day, 0)
                if count:  # Google leaves zero values out
                    point["value"] = str(count)
                dated.append(point)
                day += timedelta(days=1)
            series.append({"dailyMetric": metric, "timeSeries": {"datedValues": dated}})
        return JSONResponse({"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": series}]})

    def _business_location(self, location_id: str) -> dict[str, Any] | None:
        wanted = f"locations/{location_id}"
        for locations in self.business_locations.values():
            for location in locations:
                if location["name"] == wanted:
                    return location
        return None

    async def location_get(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return _error(401, "UNAUTHENTICATED", "missing, wrong or expired bearer token")
        mask = set(request.query_params.get("readMask", "").split(","))
        if not mask or not mask <= LOCATION_FIELDS | PATCHABLE_FIELDS:
            return _error(400, "INVALID_ARGUMENT", f"readMask {sorted(mask)} is not valid")
        location = self._business_location(request.path_params["location"])
        if location is None:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        return JSONResponse({key: value for key, value in location.items() if key in mask})

    async def location_patch(self, request: Request) -> JSONResponse:
        """`locations.patch`: the mask names what changes; the body is a `Location`."""
        if not self._authorised(request):
            return _error(401, "UNAUTHENTICATED", "missing, wrong or expired bearer token")
        location = self._business_location(request.path_params["location"])
        if location is None:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        paths = [p for p in request.query_params.get("updateMask", "").split(",") if p]
        body = await request.json()
        problem = _location_patch_problem(paths, body, set(self.business_categories))
        if problem:
            return _error(400, "INVALID_ARGUMENT", problem)
        self.location_patches.append({"updateMask": paths, "body": body})
        for path in paths:
            top, _, inner = path.partition(".")
            value = body.get(top)
            if inner:
                value = {**location.get(top, {}), inner: (value or {}).get(inner)}
            if value in (None, {}):
                location.pop(top, None)
            elif top == "categories":
                location[top] = self._with_display_names(value)
            else:
                location[top] = value
        return JSONResponse(location)

    def _with_display_names(self, categories: dict[str, Any]) -> dict[str, Any]:
        def named(category: dict[str, Any]) -> dict[str, Any]:
            return {**category, "displayName": self.business_categories[category["name"]]}

        return {
            "primaryCategory": named(categories["primaryCategory"]),
            "additionalCategories": [named(c) for c in categories.get("additionalCategories", [])],
        }

    async def categories(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return _error(401, "UNAUTHENTICATED", "missing, wrong or expired bearer token")
        params = request.query_params
        if not all(params.get(name) for name in ("regionCode", "languageCode", "view")):
            return _error(400, "INVALID_ARGUMENT", "regionCode, languageCode and view are required")
        wanted = params.get("filter", "").removeprefix("displayName=").casefold()
        found = [
            {"name": name, "displayName": display}
            for name, display in self.business_categories.items()
            if wanted in display.casefold()
        ]
        return JSONResponse({"categories": found})

    async def anything_else(self, request: Request) -> JSONResponse:
        self.unexpected.append(f"{request.method} {request.url.path}")
        return _error(404, "NOT_FOUND", f"unexpected {request.method} {request.url.path}")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/o/oauth2/v2/auth", self.consent, methods=["GET"]),
                Route("/token", self.token_endpoint, methods=["POST"]),
                Route("/revoke", self.revoke, methods=["POST"]),
                Route(
                    "/products/v1/accounts/{account}/productInputs:insert",
                    self.insert,
                    methods=["POST"],
                ),
                Route(
                    "/products/v1/accounts/{account}/productInputs/{name}",
                    self.delete_input,
                    methods=["DELETE"],
                ),
                Route(
                    "/products/v1/accounts/{account}/products", self.list_products, methods=["GET"]
                ),
                Route(
                    "/inventories/v1/accounts/{account}/products/{product}/localInventories:insert",
                    self.insert_local,
                    methods=["POST"],
                ),
                Route(
                    "/inventories/v1/accounts/{account}/products/{product}/localInventories/{store}",
                    self.delete_local,
                    methods=["DELETE"],
                ),
                Route("/accountmanagement/v1/accounts", self.accounts, methods=["GET"]),
                Route(
                    "/businessinformation/v1/accounts/{account}/locations",
                    self.locations,
                    methods=["GET"],
                ),
                Route(
                    "/businessinformation/v1/locations/{location}",
                    self.location_get,
                    methods=["GET"],
                ),
                Route(
                    "/businessinformation/v1/locations/{location}",
                    self.location_patch,
                    methods=["PATCH"],
                ),
                Route("/businessinformation/v1/categories", self.categories, methods=["GET"]),
                Route(
                    "/performance/v1/locations/{location}:fetchMultiDailyMetricsTimeSeries",
                    self.performance,
                    methods=["GET"],
                ),
                Route("/{path:path}", self.anything_else, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )


def _time_of_day_problem(value: Any, *, closing: bool) -> str | None:
    if not isinstance(value, dict) or not set(value) <= {"hours", "minutes", "seconds", "nanos"}:
        return "a TimeOfDay is {hours, minutes, seconds, nanos}"
    if not all(isinstance(part, int) for part in value.values()):
        return "TimeOfDay parts are integers"
    hours, minutes = value.get("hours", 0), value.get("minutes", 0)
    if not (0 <= hours <= (24 if closing else 23)) or not 0 <= minutes <= 59:
        return f"TimeOfDay {value} is out of range"
    if hours == 24 and minutes:
        return "24 hours is only valid as 24:00"
    return None


def _date_problem(value: Any) -> str | None:
    try:
        date(value["year"], value["month"], value["day"])
    except (KeyError, TypeError, ValueError):
        return f"{value!r} is not a google.type.Date"
    return None


def _hours_problem(body: dict[str, Any], path: str) -> str | None:
    if path == "regularHours":
        for period in (body.get("regularHours") or {}).get("periods", []):
            if period.get("openDay") not in WEEK or period.get("closeDay") not in WEEK:
                return f"period {period} needs openDay and closeDay (DayOfWeek)"
            problem = _time_of_day_problem(
                period.get("openTime"), closing=False
            ) or _time_of_day_problem(period.get("closeTime"), closing=True)
            if problem:
                return problem
    if path == "specialHours":
        for period in (body.get("specialHours") or {}).get("specialHourPeriods", []):
            problem = _date_problem(period.get("startDate"))
            if "endDate" in period:
                problem = problem or _date_problem(period["endDate"])
            if not period.get("closed"):
                problem = (
                    problem
                    or _time_of_day_problem(period.get("openTime"), closing=False)
                    or _time_of_day_problem(period.get("closeTime"), closing=True)
                )
            if problem:
                return problem
    return None


def _location_patch_problem(paths: list[str], body: Any, categories: set[str]) -> str | None:
    """What Google would refuse in a `locations.patch` (None: nothing)."""
    if not paths:
        return "updateMask is required"
    if not set(paths) <= PATCH_MASKS:
        return f"updateMask {paths} names fields that cannot be updated"
    if not isinstance(body, dict) or not set(body) <= LOCATION_FIELDS | PATCHABLE_FIELDS:
        return "the body must be a Location"
    for path in paths:
        top = path.partition(".")[0]
        value = body.get(top)
        if path == "title" and not (isinstance(value, str) and value):
            return "title must be a non-empty string"
        if path == "storefrontAddress" and value is not None:
            if not re.fullmatch(r"[A-Z]{2}", str(value.get("regionCode", ""))):
                return "storefrontAddress.regionCode (CLDR region) is required"
            if not all(isinstance(line, str) for line in value.get("addressLines", [])):
                return "addressLines must be strings"
        if path == "websiteUri" and value is not None and not str(value).startswith("http"):
            return "websiteUri must be a URL"
        if path == "categories" and value is not None:
            named = [value.get("primaryCategory") or {}, *value.get("additionalCategories", [])]
            unknown = [c.get("name") for c in named if c.get("name") not in categories]
            if unknown:
                return f"categories {unknown} are not categories/gcid:… names"
        problem = _hours_problem(body, path)
        if problem:
            return problem
    return None


def _product_input_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be a ProductInput object"
    for name in ("offerId", "contentLanguage", "feedLabel"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} is required"
    attributes = body.get("productAttributes")
    if not isinstance(attributes, dict):
        return "productAttributes is required"
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in attributes]
    if missing:
        return f"productAttributes lacks {', '.join(missing)}"
    if attributes["availability"] not in AVAILABILITY_ENUM:
        return f"availability {attributes['availability']!r} is not an Availability enum"
    price = attributes["price"]
    if not (
        isinstance(price, dict)
        and isinstance(price.get("amountMicros"), str)
        and price["amountMicros"].isdigit()
        and re.fullmatch(r"[A-Z]{3}", price.get("currencyCode", ""))
    ):
        return "price must be {amountMicros: int64 string, currencyCode: ISO 4217}"
    return None


def _not_a(message_type: Any, body: Any) -> str | None:
    """Why `body` is not a valid JSON `message_type` (Google's own client type), if it isn't."""
    try:
        message_type.from_json(json.dumps(body), ignore_unknown_fields=False)
    except Exception as exc:  # protobuf's ParseError and friends: the body is not that type
        return f"not a {message_type.__name__}: {exc}"
    return None


LOCAL_AVAILABILITY = {"IN_STOCK", "LIMITED_AVAILABILITY", "ON_DISPLAY_TO_ORDER", "OUT_OF_STOCK"}


def _local_inventory_problem(body: dict[str, Any]) -> str | None:
    if not body.get("storeCode"):
        return "storeCode is required"
    attributes = body.get("localInventoryAttributes") or {}
    if attributes.get("availability") not in LOCAL_AVAILABILITY:
        return "localInventoryAttributes.availability is required"
    if "quantity" in attributes and not str(attributes["quantity"]).isdigit():
        return "quantity must be an int64 string"
    return None


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": status, "message": message, "status": code}}, status_code=status
    )


@asynccontextmanager
async def serve(fake: FakeGoogle) -> AsyncIterator[FakeGoogle]:
    """Serve `fake` on 127.0.0.1 at a free port for the duration of the block."""
    async with serve_app(fake.app()) as base_url:
        if not fake.base_url:
            fake.base_url = base_url
        yield fake
