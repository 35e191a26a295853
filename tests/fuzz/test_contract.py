"""What the fuzzer relies on, checked fast: errors are documented, 405 names every method,
and date-time parameters accept dates, not Unix numbers."""

from __future__ import annotations

from tests.factories import create_tenant, signup_and_login


async def test_every_operation_documents_its_problem_responses(app, client) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "instance",
    ]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    undocumented = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if responses.get("default", {}).get("content") != problem:
                undocumented.append(f"{method} {path}: default")
            if "422" in responses and responses["422"]["content"] != problem:
                undocumented.append(f"{method} {path}: 422")
    assert undocumented == []


async def test_a_wrong_method_names_every_method_the_path_serves(app, client) -> None:
    response = await client.put("/api/v1/tenants")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"].startswith("application/problem+json")

    tenant_path = await client.request("OPTIONS", "/api/v1/tenants/00000000-0000-0000-0000-0")
    assert tenant_path.status_code == 405
    assert tenant_path.headers["allow"] == "DELETE, GET, PATCH"


async def test_date_time_parameters_refuse_unix_numbers(app, client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    logs = f"/api/v1/tenants/{tenant}/audit-logs"
    number = await client.get(logs, params={"until": "0.5"}, headers=owner.headers)
    assert number.status_code == 422, number.text
    assert number.json()["errors"][0]["field"] == "until"
    for accepted in ("2026-01-31", "2026-01-31T09:00:00Z", "2026-01-31T10:00:00+01:00"):
        response = await client.get(logs, params={"since": accepted}, headers=owner.headers)
        assert response.status_code == 200, (accepted, response.text)


async def test_coordinates_are_numbers_not_booleans_or_text(app, client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    url = f"/api/v1/tenants/{tenant}/locations/geo-check"
    for lon in (False, "13.4"):
        body = {"name": "Geo", "geo": {"lat": 52, "lon": lon}}
        response = await client.put(url, json=body, headers=owner.headers)
        assert response.status_code == 422, (lon, response.text)
    stored = await client.put(
        url, json={"name": "Geo", "geo": {"lat": 52, "lon": 13.4}}, headers=owner.headers
    )
    assert stored.status_code == 201, stored.text
    assert stored.json()["geo"] == {"lat": 52.0, "lon": 13.4}


async def test_nul_bytes_are_refused_as_invalid_input_not_a_server_error(app, client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    feedback = f"/api/v1/tenants/{tenant}/feedback"
    listed = await client.get(feedback, params={"category": "a\x00b"}, headers=owner.headers)
    assert listed.status_code == 422, listed.text
    assert listed.json()["type"].endswith("/invalid-value")
    body = {"rating": 4, "category": "search", "comment": "nul \x00 inside"}
    posted = await client.post(feedback, json=body, headers=owner.headers)
    assert posted.status_code == 422, posted.text
