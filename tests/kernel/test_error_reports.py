"""An unhandled error is reported to a Sentry-compatible endpoint (a local fake) with its
request id, route and tenant, and with none of the request's secrets or personal data."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import Request
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from mercato.kernel import error_reports
from mercato.settings import get_settings
from tests.fakes.server import serve

API_KEY = "mk_live_4f1c9e2ab77d40c1a9e0d3b5"
BEARER = "eyJhbGciOiJFZERTQSJ9.secret-bearer-payload.sig"
PASSWORD = "correct-horse-battery-staple"
EMAIL = "shopper.jane@example.org"
TENANT = "01a25140-0000-7000-8000-00000000abcd"
ROUTE = "/api/v1/tenants/{tenant_id}/checkout-explodes"


@dataclass
class FakeSentry:
    """Receives envelopes as a Sentry server would (`POST /api/<project>/envelope/`)."""

    envelopes: list[str] = field(default_factory=list)

    async def envelope(self, request: StarletteRequest) -> JSONResponse:
        body = await request.body()
        encoding = request.headers.get("content-encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        self.envelopes.append(body.decode())
        return JSONResponse({"id": "ok"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/1/envelope/", self.envelope, methods=["POST"])])


@pytest.fixture
async def reported(app) -> AsyncIterator[tuple[httpx.AsyncClient, FakeSentry]]:
    """An app reporting errors to the fake, with a route that fails while handling a
    request full of secrets."""
    from mercato.app import create_app

    sentry = FakeSentry()
    async with serve(sentry.app()) as url:
        dsn = url.replace("http://", "http://publickey@") + "/1"
        settings = get_settings().model_copy(update={"sentry_dsn": SecretStr(dsn)})
        assert error_reports.configure(settings)
        failing = create_app()

        @failing.post(ROUTE)
        async def checkout_explodes(tenant_id: str, request: Request) -> None:
            body = await request.json()
            raise RuntimeError(f"payment refused for {body['email']}")

        transport = httpx.ASGITransport(app=failing, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                yield http, sentry
        finally:
            error_reports.shutdown()


async def test_an_unhandled_error_is_reported_without_secrets(reported) -> None:
    client, sentry = reported
    response = await client.post(
        f"/api/v1/tenants/{TENANT}/checkout-explodes?email={EMAIL}&api_key={API_KEY}",
        json={"email": EMAIL, "password": PASSWORD, "card": "4242424242424242"},
        headers={
            "X-API-Key": API_KEY,
            "Authorization": f"Bearer {BEARER}",
            "Cookie": f"session={BEARER}",
            "X-Request-ID": "req-checkout-0042",
        },
    )
    assert response.status_code == 500
    for _ in range(200):  # the SDK sends from its own thread
        if sentry.envelopes:
            break
        await asyncio.sleep(0.05)
    assert len(sentry.envelopes) == 1
    envelope = sentry.envelopes[0]
    event = json.loads(envelope.splitlines()[2])
    assert event["tags"]["tenant_id"] == TENANT
    assert event["tags"]["route"] == ROUTE
    assert event["tags"]["request_id"] == "req-checkout-0042"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert "s***@example.org" in event["exception"]["values"][-1]["value"]
    for secret in (API_KEY, BEARER, PASSWORD, EMAIL, "4242424242424242", "secret-bearer"):
        assert secret not in envelope, secret


async def test_nothing_is_reported_without_a_dsn(client) -> None:
    assert not error_reports.configure(get_settings())
