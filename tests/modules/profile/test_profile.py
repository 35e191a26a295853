"""The business profile over HTTP: PUT/PATCH/GET, validation, JSON-LD, geocoding."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mercato.settings import get_settings
from tests.factories import add_member, create_api_key, create_tenant, signup_and_login
from tests.fakes.server import serve
from tests.jobs import run_queued_jobs

COMPLETE: dict[str, Any] = {
    "name": "Nordic Home & Garden",
    "business_type": "HomeGoodsStore",
    "description": "Furniture, kitchenware and garden tools for Nordic homes.",
    "address": {
        "street_address": "Drottninggatan 53",
        "locality": "Stockholm",
        "region": "Stockholm County",
        "postal_code": "111 21",
        "country_code": "se",
    },
    "phone": "08-123 456 78",
    "email": "hello@nordic-home.example",
    "website": "https://nordic-home.example",
    "categories": ["Furniture store", "Home goods store"],
    "regular_hours": {
        "monday": [{"opens": "10:00", "closes": "19:00"}],
        "tuesday": [{"opens": "10:00", "closes": "19:00"}],
        "wednesday": [{"opens": "10:00", "closes": "19:00"}],
        "thursday": [{"opens": "10:00", "closes": "19:00"}],
        "friday": [{"opens": "10:00", "closes": "14:00"}, {"opens": "15:00", "closes": "20:00"}],
        "saturday": [{"opens": "10:00", "closes": "17:00"}],
    },
    "special_hours": [
        {"date": "2099-12-24", "ranges": [{"opens": "10:00", "closes": "14:00"}]},
        {"date": "2099-12-25", "closed": True, "label": "Christmas Day"},
    ],
    "social_links": ["https://www.instagram.com/nordichome", "https://www.facebook.com/nordichome"],
    "seo_title": "Nordic Home & Garden - furniture and garden in Stockholm",
    "seo_description": "Scandinavian furniture, kitchenware and garden tools, in store in "
    "central Stockholm and online.",
    "price_range": "€€",
    "geo": {"lat": 59.334, "lon": 18.063},
}


async def _tenant(client) -> tuple[str, Any]:
    owner = await signup_and_login(client)
    return await create_tenant(client, owner), owner


async def test_a_new_tenant_has_an_empty_profile(client) -> None:
    tenant, owner = await _tenant(client)
    response = await client.get(f"/api/v1/tenants/{tenant}/profile", headers=owner.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] is None
    assert body["business_type"] == "LocalBusiness"
    assert body["regular_hours"]["monday"] == []
    assert body["geocoding"]["status"] == "skipped"


async def test_put_stores_the_profile_with_the_phone_in_e164(client) -> None:
    tenant, owner = await _tenant(client)
    url = f"/api/v1/tenants/{tenant}/profile"
    response = await client.put(url, json=COMPLETE, headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "+46812345678"  # national number, region from the address
    assert body["address"]["country_code"] == "SE"
    assert body["regular_hours"]["friday"] == COMPLETE["regular_hours"]["friday"]
    assert body["geo"] == {"lat": 59.334, "lon": 18.063}
    assert body["geocoding"]["status"] == "manual"
    assert (await client.get(url, headers=owner.headers)).json() == body


async def test_put_replaces_and_patch_changes_only_what_is_sent(client) -> None:
    tenant, owner = await _tenant(client)
    url = f"/api/v1/tenants/{tenant}/profile"
    await client.put(url, json=COMPLETE, headers=owner.headers)
    patched = await client.patch(
        url, json={"seo_title": "Nordic Home", "phone": "+46 8 765 432 10"}, headers=owner.headers
    )
    assert patched.status_code == 200
    assert patched.json()["seo_title"] == "Nordic Home"
    assert patched.json()["phone"] == "+46876543210"
    assert patched.json()["name"] == COMPLETE["name"]
    replaced = await client.put(url, json={"name": "Only a name"}, headers=owner.headers)
    assert replaced.json()["name"] == "Only a name"
    assert replaced.json()["website"] is None
    assert replaced.json()["special_hours"] == []
    assert replaced.json()["geo"] is None


async def test_a_complete_profile_validates_clean(client) -> None:
    tenant, owner = await _tenant(client)
    await client.put(f"/api/v1/tenants/{tenant}/profile", json=COMPLETE, headers=owner.headers)
    response = await client.get(
        f"/api/v1/tenants/{tenant}/profile/validation", headers=owner.headers
    )
    assert response.json() == {"valid": True, "complete": True, "problems": []}


async def test_validation_names_missing_nap_bad_phone_and_overlapping_hours(client) -> None:
    tenant, owner = await _tenant(client)
    broken = copy.deepcopy(COMPLETE)
    del broken["name"]
    broken["address"] = {"locality": "Stockholm", "country_code": "SE"}
    broken["phone"] = "12"
    broken["regular_hours"]["monday"] = [
        {"opens": "09:00", "closes": "13:00"},
        {"opens": "12:30", "closes": "18:00"},
    ]
    broken["regular_hours"]["tuesday"] = [{"opens": "18:00", "closes": "09:00"}]
    broken["special_hours"].append({"date": "2099-12-25", "ranges": []})
    broken["seo_description"] = "x" * 200
    response = await client.put(
        f"/api/v1/tenants/{tenant}/profile", json=broken, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "12"  # kept as given, so the validation can say so
    report = (
        await client.get(f"/api/v1/tenants/{tenant}/profile/validation", headers=owner.headers)
    ).json()
    assert report["valid"] is False
    problems = {(p["field"], p["code"]): p["severity"] for p in report["problems"]}
    assert problems[("name", "missing_name")] == "error"
    assert problems[("address.street_address", "missing_street_address")] == "error"
    assert problems[("address.postal_code", "missing_postal_code")] == "error"
    assert ("address.locality", "missing_locality") not in problems
    assert problems[("phone", "invalid_phone")] == "error"
    assert problems[("regular_hours.monday", "overlapping_hours")] == "error"
    assert problems[("regular_hours.tuesday[0]", "closes_before_opens")] == "error"
    assert problems[("special_hours", "duplicate_special_date")] == "error"
    assert problems[("seo_description", "seo_description_too_long")] == "warning"


async def test_malformed_values_are_refused_by_field(client) -> None:
    tenant, owner = await _tenant(client)
    response = await client.put(
        f"/api/v1/tenants/{tenant}/profile",
        json={
            "website": "nordic-home.example",
            "address": {"country_code": "XX"},
            "regular_hours": {"monday": [{"opens": "9am", "closes": "17:00"}]},
        },
        headers=owner.headers,
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"website", "address.country_code", "regular_hours.monday.0.opens"} <= fields


async def test_jsonld_is_a_schema_org_local_business(client) -> None:
    tenant, owner = await _tenant(client)
    await client.put(f"/api/v1/tenants/{tenant}/profile", json=COMPLETE, headers=owner.headers)
    response = await client.get(f"/api/v1/tenants/{tenant}/profile/jsonld", headers=owner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    doc = response.json()
    assert doc["@context"] == "https://schema.org"
    assert doc["@type"] == "HomeGoodsStore"
    assert doc["telephone"] == "+46812345678"
    assert doc["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Drottninggatan 53",
        "addressLocality": "Stockholm",
        "addressRegion": "Stockholm County",
        "postalCode": "111 21",
        "addressCountry": "SE",
    }
    assert doc["geo"] == {"@type": "GeoCoordinates", "latitude": 59.334, "longitude": 18.063}
    weekdays = {
        "dayOfWeek": ["Monday", "Tuesday", "Wednesday", "Thursday"],
        "opens": "10:00",
        "closes": "19:00",
    }
    hours = [
        {k: v for k, v in spec.items() if k != "@type"} for spec in doc["openingHoursSpecification"]
    ]
    assert weekdays in hours
    assert {"dayOfWeek": ["Friday"], "opens": "15:00", "closes": "20:00"} in hours
    assert "Sunday" not in str(hours)
    christmas = [
        s for s in doc["specialOpeningHoursSpecification"] if s["validFrom"] == "2099-12-25"
    ]
    assert christmas == [
        {
            "@type": "OpeningHoursSpecification",
            "validFrom": "2099-12-25",
            "validThrough": "2099-12-25",
            "opens": "00:00",
            "closes": "00:00",
            "name": "Christmas Day",
        }
    ]
    assert doc["sameAs"] == COMPLETE["social_links"]


async def test_jsonld_leaves_out_what_is_unknown_or_wrong(client) -> None:
    tenant, owner = await _tenant(client)
    await client.put(
        f"/api/v1/tenants/{tenant}/profile",
        json={"name": "Corner shop", "phone": "not a number"},
        headers=owner.headers,
    )
    doc = (
        await client.get(f"/api/v1/tenants/{tenant}/profile/jsonld", headers=owner.headers)
    ).json()
    assert doc == {
        "@context": "https://schema.org",
        "@type": "LocalBusiness",
        "name": "Corner shop",
    }


async def test_writes_need_profile_write_and_are_audited(client) -> None:
    tenant, owner = await _tenant(client)
    viewer = await add_member(client, owner, tenant, "viewer")
    url = f"/api/v1/tenants/{tenant}/profile"
    assert (await client.get(url, headers=viewer.headers)).status_code == 200
    assert (await client.put(url, json=COMPLETE, headers=viewer.headers)).status_code == 403
    key = await create_api_key(client, owner, tenant)
    saved = await client.patch(url, json={"name": "By key"}, headers={"X-API-Key": key["key"]})
    assert saved.status_code == 200
    audit = await client.get(
        f"/api/v1/tenants/{tenant}/audit-logs?action=profile.updated", headers=owner.headers
    )
    [entry] = audit.json()["data"]
    assert entry["changes"]["name"] == {"from": None, "to": "By key"}


async def test_without_a_geocoder_coordinates_stay_unknown(client) -> None:
    tenant, owner = await _tenant(client)
    body = {k: v for k, v in COMPLETE.items() if k != "geo"}
    response = await client.put(
        f"/api/v1/tenants/{tenant}/profile", json=body, headers=owner.headers
    )
    assert response.json()["geo"] is None
    assert response.json()["geocoding"]["status"] == "skipped"
    report = (
        await client.get(f"/api/v1/tenants/{tenant}/profile/validation", headers=owner.headers)
    ).json()
    [geo] = [p for p in report["problems"] if p["field"] == "geo"]
    assert geo["severity"] == "info"
    assert "no geocoder" in geo["message"]


class FakeNominatim:
    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []

    async def search(self, request: Request) -> JSONResponse:
        self.queries.append(dict(request.query_params))
        assert request.headers["user-agent"].startswith("Mercato/")
        if request.query_params.get("city") == "Atlantis":
            return JSONResponse([])
        return JSONResponse([{"lat": "59.3326", "lon": "18.0649", "display_name": "Stockholm"}])

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/search", self.search)])


@pytest.fixture
async def nominatim(monkeypatch: pytest.MonkeyPatch):
    fake = FakeNominatim()
    async with serve(fake.app()) as url:
        monkeypatch.setenv("MERCATO_GEOCODING_URL", url)
        get_settings.cache_clear()
        try:
            yield fake
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()


async def _run_profile_jobs() -> None:
    await run_queued_jobs("profile")


async def test_a_configured_geocoder_places_the_address(client, nominatim) -> None:
    tenant, owner = await _tenant(client)
    url = f"/api/v1/tenants/{tenant}/profile"
    body = {k: v for k, v in COMPLETE.items() if k != "geo"}
    response = await client.put(url, json=body, headers=owner.headers)
    assert response.json()["geocoding"]["status"] == "pending"
    await _run_profile_jobs()
    profile = (await client.get(url, headers=owner.headers)).json()
    assert profile["geo"] == {"lat": 59.3326, "lon": 18.0649}
    assert profile["geocoding"]["status"] == "done"
    assert profile["geocoding"]["source"] == "nominatim"
    assert nominatim.queries[-1]["street"] == "Drottninggatan 53"
    assert nominatim.queries[-1]["countrycodes"] == "se"

    nowhere = await client.patch(
        url,
        json={"address": {**body["address"], "locality": "Atlantis"}},
        headers=owner.headers,
    )
    assert nowhere.json()["geo"] is None
    await _run_profile_jobs()
    assert (await client.get(url, headers=owner.headers)).json()["geocoding"]["status"] == "failed"
