"""A local stand-in for Google's Merchant API `productInputs.insert`, served over real HTTP.

It checks what Google checks at the door (path, `dataSource`, bearer token, JSON body with
the required ProductInput fields) and can be told to answer 503 to an item's first call or
400 to an item for good, so the client's retries and per-item failures are tested end to end.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

INSERT_PATH = re.compile(r"/products/v1/accounts/(?P<account>[^/]+)/productInputs:insert")
REQUIRED_ATTRIBUTES = ("title", "link", "imageLink", "availability", "price", "condition")
AVAILABILITY_ENUM = {"IN_STOCK", "OUT_OF_STOCK", "PREORDER", "BACKORDER", "LIMITED_AVAILABILITY"}


@dataclass
class FakeMerchantApi:
    account: str = "1234567"
    data_source: str = "9876"
    token: str = "ya29.test-token"
    fail_first_with_503: set[str] = field(default_factory=set)
    always_503: set[str] = field(default_factory=set)
    reject: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    base_url: str = ""

    async def insert(self, request: Request) -> JSONResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: Request) -> JSONResponse:
        match = INSERT_PATH.fullmatch(request.url.path)
        if request.method != "POST" or match is None or match["account"] != self.account:
            return _error(404, "NOT_FOUND", f"unexpected {request.method} {request.url.path}")
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "UNAUTHENTICATED", "missing or wrong bearer token")
        expected_source = f"accounts/{self.account}/dataSources/{self.data_source}"
        if request.query_params.get("dataSource") != expected_source:
            return _error(400, "INVALID_ARGUMENT", "dataSource must name the API data source")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(400, "INVALID_ARGUMENT", "body must be JSON")
        body = await request.json()
        problem = _shape_problem(body)
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


def _shape_problem(body: Any) -> str | None:
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


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": status, "message": message, "status": code}}, status_code=status
    )


@asynccontextmanager
async def serve(api: FakeMerchantApi) -> AsyncIterator[FakeMerchantApi]:
    """Serve `api` on 127.0.0.1 at a free port for the duration of the block."""
    app = Starlette(routes=[Route("/{path:path}", api.insert, methods=["GET", "POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        api.base_url = f"http://127.0.0.1:{port}"
        yield api
    finally:
        server.should_exit = True
        await task
        sock.close()
