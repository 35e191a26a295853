"""Google Business Profile: locations and daily insights imported through the Google link."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from mercato.modules.channels.business_profile import importer
from mercato.modules.channels.business_profile.importer import import_business_profile
from tests.fakes.google import FakeGoogle
from tests.jobs import run_queued_jobs
from tests.modules.channels.test_google_oauth import linked_tenant

TODAY = date(2026, 11, 23)


def plant_business(google: FakeGoogle) -> None:
    google.business_accounts = [
        {"name": "accounts/111", "accountName": "Nordic Home", "type": "LOCATION_GROUP"}
    ]
    google.business_locations["111"] = [
        {
            "name": f"locations/{900 + n}",
            "title": f"Nordic Home {city}",
            "storeCode": code,
            "storefrontAddress": {
                "regionCode": "SE",
                "postalCode": "111 21",
                "locality": city,
                "addressLines": [f"Storgatan {n}"],
            },
            "phoneNumbers": {"primaryPhone": "+46 8 123 456 78"},
            "websiteUri": "https://nordic-home.example",
            "latlng": {"latitude": 59.3 + n / 100, "longitude": 18.0},
        }
        for n, (city, code) in enumerate(
            [("Stockholm", "STO-1"), ("Uppsala", "UPP-1"), ("Lund", None)]
        )
    ]
    yesterday = TODAY - timedelta(days=1)
    google.daily_metrics["900"] = {
        "BUSINESS_IMPRESSIONS_MOBILE_MAPS": {yesterday: 40},
        "BUSINESS_IMPRESSIONS_DESKTOP_MAPS": {yesterday: 10},
        "BUSINESS_IMPRESSIONS_MOBILE_SEARCH": {yesterday: 25, yesterday - timedelta(days=3): 7},
        "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH": {yesterday: 5},
        "CALL_CLICKS": {yesterday: 3},
        "BUSINESS_DIRECTION_REQUESTS": {yesterday: 4},
        "WEBSITE_CLICKS": {yesterday: 6},
    }


async def _our_location(client, tenant: str, owner, code: str) -> None:
    response = await client.put(
        f"/api/v1/tenants/{tenant}/locations/{code}",
        json={"name": f"Store {code}"},
        headers=owner.headers,
    )
    assert response.status_code == 201


async def test_locations_and_insights_are_imported_and_linked_by_store_code(
    client, google: FakeGoogle, monkeypatch
) -> None:
    tenant, owner = await linked_tenant(client, google)
    await _our_location(client, tenant, owner, "STO-1")
    plant_business(google)
    monkeypatch.setattr(importer, "PAGE_SIZE", 2)  # three locations come in two pages
    report = await import_business_profile(uuid.UUID(tenant), today=TODAY)
    assert (report.locations, report.linked) == (3, 1)
    assert report.insight_days == 3 * 30  # 30 days per location on the first import

    listed = await client.get(
        f"/api/v1/tenants/{tenant}/google/business/locations", headers=owner.headers
    )
    locations = {row["gbp_location_id"]: row for row in listed.json()["data"]}
    assert locations["900"]["location_code"] == "STO-1"
    assert locations["901"]["location_code"] is None  # UPP-1 is not one of ours
    assert locations["900"]["address"] == "Storgatan 0, 111 21, Stockholm"
    assert locations["900"]["insights_through"] == str(TODAY - timedelta(days=1))

    insights = await client.get(
        f"/api/v1/tenants/{tenant}/google/business/insights",
        params={
            "start": str(TODAY - timedelta(days=7)),
            "end": str(TODAY),
            "location_code": "STO-1",
        },
        headers=owner.headers,
    )
    rows = {row["day"]: row for row in insights.json()["data"]}
    last = rows[str(TODAY - timedelta(days=1))]
    assert (last["views"], last["searches"]) == (80, 30)
    assert (last["calls"], last["direction_requests"], last["website_clicks"]) == (3, 4, 6)
    assert rows[str(TODAY - timedelta(days=4))]["searches"] == 7
    assert rows[str(TODAY - timedelta(days=5))]["views"] == 0


async def test_a_second_import_rereads_recent_days_and_keeps_manual_links(
    client, google: FakeGoogle
) -> None:
    tenant, owner = await linked_tenant(client, google)
    await _our_location(client, tenant, owner, "LUND")
    plant_business(google)
    await import_business_profile(uuid.UUID(tenant), today=TODAY)
    linked = await client.put(
        f"/api/v1/tenants/{tenant}/google/business/locations/902",
        json={"location_code": "LUND"},
        headers=owner.headers,
    )
    assert linked.status_code == 200
    assert linked.json()["location_code"] == "LUND"
    google.performance_requests.clear()
    later = TODAY + timedelta(days=2)
    report = await import_business_profile(uuid.UUID(tenant), today=later)
    assert report.linked == 1
    assert {r["start"] for r in google.performance_requests} == {TODAY - timedelta(days=3)}
    assert {r["end"] for r in google.performance_requests} == {later - timedelta(days=1)}
    listed = await client.get(
        f"/api/v1/tenants/{tenant}/google/business/locations", headers=owner.headers
    )
    by_id = {row["gbp_location_id"]: row for row in listed.json()["data"]}
    assert by_id["902"]["location_code"] == "LUND"


async def test_linking_to_an_unknown_location_is_refused(client, google: FakeGoogle) -> None:
    tenant, owner = await linked_tenant(client, google)
    plant_business(google)
    await import_business_profile(uuid.UUID(tenant), today=TODAY)
    response = await client.put(
        f"/api/v1/tenants/{tenant}/google/business/locations/900",
        json={"location_code": "NOPE"},
        headers=owner.headers,
    )
    assert response.status_code == 422


async def test_a_sync_request_runs_the_import_job(client, google: FakeGoogle) -> None:
    tenant, owner = await linked_tenant(client, google)
    plant_business(google)
    queued = await client.post(
        f"/api/v1/tenants/{tenant}/google/business/sync", headers=owner.headers
    )
    assert queued.status_code == 202
    await run_queued_jobs("channels")
    listed = await client.get(
        f"/api/v1/tenants/{tenant}/google/business/locations", headers=owner.headers
    )
    assert len(listed.json()["data"]) == 3
    assert google.unexpected == []


async def test_insight_ranges_are_checked(client, google: FakeGoogle) -> None:
    tenant, owner = await linked_tenant(client, google)
    response = await client.get(
        f"/api/v1/tenants/{tenant}/google/business/insights",
        params={"start": "2026-02-01", "end": "2026-01-01"},
        headers=owner.headers,
    )
    assert response.status_code == 422
