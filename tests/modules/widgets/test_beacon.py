"""`navigator.sendBeacon` cannot set headers: its POST is replayed as the tracking API's
batch call with the key moved into `X-API-Key`."""

from __future__ import annotations

import uuid

from mercato.modules.widgets.beacon import BeaconEvents


def _scope(query: bytes) -> dict:
    return {
        "type": "http",
        "method": "POST",
        "path": "/sdk/v1/events",
        "raw_path": b"/sdk/v1/events",
        "query_string": query,
        "headers": [
            (b"content-type", b"text/plain;charset=UTF-8"),
            (b"origin", b"https://shop.example"),
            (b"x-api-key", b"forged"),
        ],
    }


def test_a_beacon_becomes_a_batch_call_with_the_key_in_its_header() -> None:
    tenant = uuid.uuid4()
    scope = BeaconEvents.rewrite(_scope(f"tenant={tenant}&key=mk_live_abc".encode()))
    assert scope["path"] == f"/api/v1/tenants/{tenant}/events/batch"
    assert scope["query_string"] == b""
    headers = dict(scope["headers"])
    assert headers[b"x-api-key"] == b"mk_live_abc"
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"origin"] == b"https://shop.example"  # the key's origin check still applies
    assert [name for name, _ in scope["headers"]].count(b"x-api-key") == 1


def test_a_beacon_without_a_valid_tenant_is_left_alone() -> None:
    original = _scope(b"tenant=not-a-uuid&key=x")
    assert BeaconEvents.rewrite(original) is original


async def test_other_requests_pass_through_untouched(client) -> None:
    response = await client.get("/sdk/v1/events")
    assert response.status_code in (404, 405)
