"""Events answered before FastAPI (tracking.lean) get exactly the routes' answers."""

from __future__ import annotations

import json
import uuid
from typing import Any

from mercato.kernel import listen
from mercato.kernel.lean import LeanRequest
from mercato.modules.tracking import lean
from tests.modules.tracking.helpers import Shop, new_shop, view


def lean_request(shop: Shop, path: str, body: Any) -> LeanRequest:
    scope = {"type": "http", "method": "POST", "path": path, "client": ("127.0.0.1", 4321)}
    headers = {"x-api-key": shop.key, "content-type": "application/json"}
    return LeanRequest(scope, uuid.UUID(shop.tenant_id), headers, {}, json.dumps(body).encode())


def batch(tag: str) -> dict[str, Any]:
    good = view(event_id=f"{tag}-1")
    return {"events": [good, {"type": "view_item"}, "not an event", good, view(user="")]}


async def test_lean_answers_equal_the_routes(client, owner_dsn) -> None:
    assert await listen.wait_live()
    shop = await new_shop(client)
    batch_path = f"{shop.base}/events/batch"
    # A key this process has not seen yet: the routes answer (and remember it).
    routed_batch = await client.post(batch_path, json=batch("route"), headers=shop.key_headers)
    # A media type the lean handler leaves to the route (FastAPI reads it as JSON too).
    routed_single = await client.post(
        f"{shop.base}/events",
        content=json.dumps(view(event_id="route-single")),
        headers={**shop.key_headers, "content-type": "application/ld+json"},
    )
    lean_batch = await lean.post_batch(lean_request(shop, batch_path, batch("lean")))
    lean_single = await lean.post_event(
        lean_request(shop, f"{shop.base}/events", view(event_id="lean-single"))
    )
    for routed, answered in ((routed_batch, lean_batch), (routed_single, lean_single)):
        assert routed.status_code == 202, routed.text
        assert answered is not None
        assert answered.status == 202
        assert answered.body == routed.content
        assert {name.decode() for name, _ in answered.headers} <= set(routed.headers)
    assert json.loads(lean_batch.body)["rejected"][0]["index"] == 1  # type: ignore[union-attr]
    again = await lean.post_event(
        lean_request(shop, f"{shop.base}/events", view(event_id="lean-single"))
    )
    assert again is not None
    assert json.loads(again.body) == {"accepted": 0, "duplicates": 1}


async def test_lean_leaves_what_it_cannot_vouch_for_to_the_route(client) -> None:
    assert await listen.wait_live()
    shop = await new_shop(client)
    url = f"{shop.base}/events"
    assert (await client.post(url, json=view(), headers=shop.key_headers)).status_code == 202
    invalid = lean_request(shop, url, {"type": "purchase", "user_id": "u1"})
    assert await lean.post_event(invalid) is None  # a rule the route reports
    assert await lean.post_event(lean_request(shop, url, {"type": "nope"})) is None
    not_a_batch = lean_request(shop, f"{url}/batch", [view()])
    assert await lean.post_batch(not_a_batch) is None
    stranger = lean_request(shop, url, view())
    stranger.headers["x-api-key"] = shop.key[:-2] + "xx"
    assert await lean.post_event(stranger) is None
    # The route answers each of them as it always has.
    response = await client.post(
        url, json={"type": "purchase", "user_id": "u1"}, headers=shop.key_headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(url, json=view(), headers={"X-API-Key": "nope"})).status_code == 401


async def test_a_streamed_body_over_the_limit_is_a_413_on_the_lean_path_too(client) -> None:
    assert await listen.wait_live()
    shop = await new_shop(client)
    url = f"{shop.base}/events"
    assert (await client.post(url, json=view(), headers=shop.key_headers)).status_code == 202

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(64):  # no Content-Length: the limit is enforced while reading
            yield b" " * 65_536

    headers = {**shop.key_headers, "content-type": "application/json"}
    response = await client.post(url, content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
