"""Locations over HTTP: `PUT {T}/locations/{code}` creates (201) or replaces (200)."""

from __future__ import annotations

from tests.factories import add_member, create_tenant, signup_and_login

HAMBURG = {
    "name": "Hamburg store",
    "kind": "store",
    "address": "Hafenstraße 95, 20095 Hamburg",
    "timezone": "Europe/Berlin",
    "geo": {"lat": 53.527, "lon": 10.008},
}


async def test_put_creates_then_replaces(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}/locations/HAM-01"
    created = await client.put(url, json=HAMBURG, headers=owner.headers)
    assert created.status_code == 201
    assert created.json()["code"] == "HAM-01"
    assert created.json()["geo"] == {"lat": 53.527, "lon": 10.008}
    replaced = await client.put(url, json={"name": "Hamburg flagship"}, headers=owner.headers)
    assert replaced.status_code == 200
    body = replaced.json()
    assert body["name"] == "Hamburg flagship"
    assert body["timezone"] is None  # PUT replaces the whole location
    listed = await client.get(f"/api/v1/tenants/{tenant}/locations", headers=owner.headers)
    assert [loc["code"] for loc in listed.json()["data"]] == ["HAM-01"]


async def test_invalid_locations_are_422_by_field(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}/locations/X1"
    response = await client.put(
        url,
        json={"name": "X", "timezone": "Nowhere/City", "geo": {"lat": 95, "lon": 0}},
        headers=owner.headers,
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"timezone", "geo.lat"}
    bad_code = await client.put(
        f"/api/v1/tenants/{tenant}/locations/has%20space", json={"name": "x"}, headers=owner.headers
    )
    assert bad_code.status_code == 422


async def test_viewers_read_but_cannot_write(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    viewer = await add_member(client, owner, tenant, "viewer")
    await client.put(
        f"/api/v1/tenants/{tenant}/locations/A", json={"name": "A"}, headers=owner.headers
    )
    assert (
        await client.get(f"/api/v1/tenants/{tenant}/locations/A", headers=viewer.headers)
    ).status_code == 200
    denied = await client.put(
        f"/api/v1/tenants/{tenant}/locations/B", json={"name": "B"}, headers=viewer.headers
    )
    assert denied.status_code == 403
    assert (
        await client.get(f"/api/v1/tenants/{tenant}/locations/none", headers=owner.headers)
    ).status_code == 404
