"""The HTTP shell: problem+json for every error, request ids, body limits, headers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from mercato.app import create_app

PROBLEM = "application/problem+json"


def _assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    for key in ("type", "title", "status", "detail", "instance", "request_id"):
        assert key in body, key
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


class Item(BaseModel):
    name: str
    price: int


@pytest.fixture(scope="module")
async def probe_app(app: FastAPI) -> object:
    """The real app plus routes that misbehave on purpose (pools opened by `app`)."""
    application = create_app()
    router = APIRouter()

    @router.post("/_probe/items")
    async def create_item(item: Item) -> Item:
        return item

    @router.get("/_probe/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals that must not leak")

    application.include_router(router)
    return application


@pytest.fixture
async def probe(probe_app: FastAPI) -> object:
    transport = httpx.ASGITransport(app=probe_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class TestProblemDetails:
    async def test_unknown_path_is_a_404_problem_with_request_id(self, client) -> None:
        response = await client.get("/no/such/path")
        body = _assert_problem(response, 404)
        assert body["type"].endswith("/not-found")
        assert body["instance"] == "/no/such/path"

    async def test_wrong_method_is_a_405_problem(self, client) -> None:
        response = await client.delete("/health")
        _assert_problem(response, 405)

    async def test_malformed_json_is_a_422_problem(self, probe) -> None:
        response = await probe.post(
            "/_probe/items",
            content=b'{"name": "chair", ',
            headers={"content-type": "application/json"},
        )
        body = _assert_problem(response, 422)
        assert body["type"].endswith("/malformed-json")
        assert body["errors"]

    async def test_invalid_fields_are_listed_one_by_one(self, probe) -> None:
        response = await probe.post("/_probe/items", json={"name": "chair", "price": "cheap"})
        body = _assert_problem(response, 422)
        assert [e["field"] for e in body["errors"]] == ["price"]

    async def test_unhandled_error_is_a_500_problem_without_internals(self, probe) -> None:
        response = await probe.get("/_probe/boom")
        body = _assert_problem(response, 500)
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text
        assert body["type"].endswith("/internal-error")

    async def test_oversized_body_is_a_413_problem(self, probe, settings) -> None:
        payload = b'{"name": "' + b"x" * (settings.max_body_bytes + 10) + b'", "price": 1}'
        response = await probe.post(
            "/_probe/items", content=payload, headers={"content-type": "application/json"}
        )
        _assert_problem(response, 413)

    async def test_oversized_streamed_body_without_length_is_a_413(self, probe, settings) -> None:
        chunk = b"x" * 65536

        async def stream():
            yield b'{"name": "'
            for _ in range(settings.max_body_bytes // len(chunk) + 2):
                yield chunk
            yield b'", "price": 1}'

        response = await probe.post(
            "/_probe/items", content=stream(), headers={"content-type": "application/json"}
        )
        _assert_problem(response, 413)


class TestRequestId:
    async def test_every_response_carries_a_generated_request_id(self, client) -> None:
        first = await client.get("/health")
        second = await client.get("/health")
        assert len(first.headers["x-request-id"]) >= 16
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    async def test_a_sane_incoming_request_id_is_echoed(self, client) -> None:
        response = await client.get("/health", headers={"X-Request-ID": "lb-1234abcd"})
        assert response.headers["x-request-id"] == "lb-1234abcd"

    @pytest.mark.parametrize(
        "bad", ["short", "has spaces in it", "x" * 200, "<script>alert</script>"]
    )
    async def test_an_insane_incoming_request_id_is_replaced(self, client, bad: str) -> None:
        response = await client.get("/health", headers={"X-Request-ID": bad})
        assert response.headers["x-request-id"] != bad

    async def test_error_responses_carry_the_request_id_too(self, client) -> None:
        response = await client.get("/missing", headers={"X-Request-ID": "trace-abcdef12"})
        assert response.headers["x-request-id"] == "trace-abcdef12"
        assert response.json()["request_id"] == "trace-abcdef12"


async def test_security_headers_are_set(client) -> None:
    response = await client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_openapi_schema_is_served(client) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Mercato"
