"""The business profile is pushed to Google Business Profile (`locations.patch` with an
update mask) and a Google-side edit is shown as a conflict, never overwritten."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from mercato.modules.channels.business_profile.importer import import_business_profile
from mercato.modules.channels.business_profile.profile_fields import (
    from_google,
    location_body,
)
from mercato.modules.channels.business_profile.push import plan_push
from mercato.settings import get_settings
from tests.fakes.google import FakeGoogle
from tests.jobs import run_queued_jobs
from tests.modules.channels.test_gbp import plant_business
from tests.modules.channels.test_google_oauth import linked_tenant
from tests.web.browser import signed_in

TODAY = date.today()
HOLIDAY = TODAY + timedelta(days=20)
CATEGORIES = {
    "categories/gcid:furniture_store": "Furniture store",
    "categories/gcid:home_goods_store": "Home goods store",
}
PROFILE: dict[str, Any] = {
    "name": "Nordic Home Stockholm",  # as on Google: agreed, not sent
    "address": {
        "street_address": "Storgatan 0",
        "locality": "Stockholm",
        "postal_code": "111 21",
        "country_code": "SE",
    },
    "phone": "+46 8 123 456 78",
    "website": "https://nordic-home.example",
    "categories": ["Furniture store", "Home goods store"],
    "regular_hours": {
        "monday": [{"opens": "10:00", "closes": "19:00"}],
        "friday": [{"opens": "10:00", "closes": "14:00"}, {"opens": "15:00", "closes": "24:00"}],
        "saturday": [{"opens": "22:00", "closes": "02:00"}],
    },
    "special_hours": [
        {"date": HOLIDAY.isoformat(), "closed": True, "label": "Midsummer"},
        {
            "date": (HOLIDAY + timedelta(days=1)).isoformat(),
            "ranges": [{"opens": "12:00", "closes": "16:30"}],
        },
    ],
}


@pytest.fixture
def no_push_delay(monkeypatch: pytest.MonkeyPatch, google: FakeGoogle) -> None:
    monkeypatch.setenv("MERCATO_GBP_PROFILE_PUSH_DELAY_S", "0")
    get_settings.cache_clear()


async def _pushing_tenant(client, google: FakeGoogle) -> tuple[str, Any]:
    tenant, owner = await linked_tenant(client, google)
    plant_business(google)
    google.business_categories = dict(CATEGORIES)
    await import_business_profile(uuid.UUID(tenant), today=TODAY)
    chosen = await client.put(
        f"/api/v1/tenants/{tenant}/google/business/profile-push",
        json={"gbp_location_id": "900"},
        headers=owner.headers,
    )
    assert chosen.status_code == 200, chosen.text
    return tenant, owner


async def _edit(client, tenant: str, owner: Any, method: str, body: dict[str, Any]) -> None:
    response = await client.request(
        method, f"/api/v1/tenants/{tenant}/profile", json=body, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    await run_queued_jobs("default")  # profile.updated → a push is queued
    await run_queued_jobs("channels")


def _stored(google: FakeGoogle, location: str = "locations/900") -> dict[str, Any]:
    [found] = [loc for loc in google.business_locations["111"] if loc["name"] == location]
    return found


async def test_profile_edits_reach_business_profile_with_the_update_mask(
    client, google: FakeGoogle, no_push_delay: None
) -> None:
    tenant, owner = await _pushing_tenant(client, google)
    await _edit(client, tenant, owner, "PUT", PROFILE)

    [first] = google.location_patches
    assert first["updateMask"] == ["regularHours", "specialHours", "categories"]
    body = first["body"]
    assert body["categories"] == {
        "primaryCategory": {"name": "categories/gcid:furniture_store"},
        "additionalCategories": [{"name": "categories/gcid:home_goods_store"}],
    }
    periods = body["regularHours"]["periods"]
    assert periods[0] == {
        "openDay": "MONDAY",
        "openTime": {"hours": 10, "minutes": 0},
        "closeDay": "MONDAY",
        "closeTime": {"hours": 19, "minutes": 0},
    }
    assert periods[2]["closeTime"] == {"hours": 24, "minutes": 0}
    assert (periods[3]["openDay"], periods[3]["closeDay"]) == ("SATURDAY", "SUNDAY")
    holiday = {"year": HOLIDAY.year, "month": HOLIDAY.month, "day": HOLIDAY.day}
    assert body["specialHours"]["specialHourPeriods"][0] == {
        "startDate": holiday,
        "endDate": holiday,
        "closed": True,
    }
    assert "title" not in body  # agreed already
    assert "phoneNumbers" not in body

    await _edit(client, tenant, owner, "PATCH", {"phone": "+46 8 765 432 10"})
    second = google.location_patches[1]
    assert second == {
        "updateMask": ["phoneNumbers.primaryPhone"],
        "body": {"phoneNumbers": {"primaryPhone": "+46876543210"}},
    }
    assert _stored(google)["phoneNumbers"]["primaryPhone"] == "+46876543210"

    state = await client.get(
        f"/api/v1/tenants/{tenant}/google/business/profile-push", headers=owner.headers
    )
    assert state.json()["status"] == "pushed"
    assert state.json()["pushed_fields"] == ["phone"]
    assert state.json()["conflicts"] == []

    await _edit(client, tenant, owner, "PATCH", {"description": "Not a Google field"})
    assert len(google.location_patches) == 2  # nothing pushed for an unpushed field
    assert google.unexpected == []


async def test_a_google_side_edit_is_shown_and_never_overwritten(
    client, google: FakeGoogle, no_push_delay: None
) -> None:
    tenant, owner = await _pushing_tenant(client, google)
    await _edit(client, tenant, owner, "PUT", PROFILE)
    _stored(google)["title"] = "Nordic Home Stockholm City"  # edited on Google
    _stored(google)["websiteUri"] = "https://stockholm.nordic-home.example"
    google.location_patches.clear()

    await _edit(client, tenant, owner, "PATCH", {"name": "Nordic Home Södermalm"})

    assert google.location_patches == []  # the only edited field is in conflict
    assert _stored(google)["title"] == "Nordic Home Stockholm City"
    base = f"/api/v1/tenants/{tenant}/google/business/profile-push"
    state = (await client.get(base, headers=owner.headers)).json()
    conflicts = {c["field"]: c for c in state["conflicts"]}
    assert set(conflicts) == {"name", "website"}
    assert conflicts["name"]["reason"] == "both_changed"
    assert conflicts["name"]["mercato"] == "Nordic Home Södermalm"
    assert conflicts["name"]["google"] == "Nordic Home Stockholm City"
    assert conflicts["website"]["reason"] == "google_changed"

    kept = await client.post(
        f"{base}/conflicts/name", json={"keep": "mercato"}, headers=owner.headers
    )
    assert kept.status_code == 200, kept.text
    await run_queued_jobs("channels")
    assert google.location_patches[-1] == {
        "updateMask": ["title"],
        "body": {"title": "Nordic Home Södermalm"},
    }

    taken = await client.post(
        f"{base}/conflicts/website", json={"keep": "google"}, headers=owner.headers
    )
    assert taken.status_code == 200, taken.text
    profile = (await client.get(f"/api/v1/tenants/{tenant}/profile", headers=owner.headers)).json()
    assert profile["website"] == "https://stockholm.nordic-home.example"
    await run_queued_jobs("default")
    await run_queued_jobs("channels")
    state = (await client.get(base, headers=owner.headers)).json()
    assert state["conflicts"] == []
    assert len(google.location_patches) == 1  # taking Google's value sent nothing

    missing = await client.post(
        f"{base}/conflicts/website", json={"keep": "google"}, headers=owner.headers
    )
    assert missing.status_code == 404


async def test_the_target_must_be_an_imported_location(client, google: FakeGoogle) -> None:
    tenant, owner = await linked_tenant(client, google)
    base = f"/api/v1/tenants/{tenant}/google/business/profile-push"
    assert (await client.get(base, headers=owner.headers)).status_code == 404
    assert (await client.post(f"{base}/run", headers=owner.headers)).status_code == 404
    refused = await client.put(base, json={"gbp_location_id": "900"}, headers=owner.headers)
    assert refused.status_code == 422
    bad = await client.post(
        f"{base}/conflicts/email", json={"keep": "google"}, headers=owner.headers
    )
    assert bad.status_code == 422


async def test_push_now_queues_a_push(client, google: FakeGoogle) -> None:
    tenant, owner = await _pushing_tenant(client, google)
    await _edit(client, tenant, owner, "PATCH", {"name": "Nordic Home Stockholm"})
    google.location_patches.clear()
    google.business_categories.clear()  # Google no longer knows our categories
    await client.patch(
        f"/api/v1/tenants/{tenant}/profile",
        json={"categories": ["Furniture store"]},
        headers=owner.headers,
    )
    queued = await client.post(
        f"/api/v1/tenants/{tenant}/google/business/profile-push/run", headers=owner.headers
    )
    assert queued.status_code == 202
    assert queued.json()["status"] == "queued"
    await run_queued_jobs("channels")
    state = (
        await client.get(
            f"/api/v1/tenants/{tenant}/google/business/profile-push", headers=owner.headers
        )
    ).json()
    assert google.location_patches == []
    assert "no category 'Furniture store'" in state["error"]


def test_what_is_sent_reads_back_as_the_same_values() -> None:
    ours = {
        "name": "Shop",
        "address": {"street_address": "Main St 1", "locality": "Lund", "country_code": "SE"},
        "phone": "+46812345678",
        "website": "https://shop.example",
        "regular_hours": {
            day: [] for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "sunday")
        }
        | {"saturday": [{"opens": "22:00", "closes": "02:00"}]},
        "special_hours": [
            {
                "date": HOLIDAY.isoformat(),
                "closed": False,
                "ranges": [{"opens": "09:30", "closes": "24:00"}],
            }
        ],
        "categories": [],
    }
    sent = location_body(ours)
    sent["title"] = "Shop"
    # Google leaves zero fields of a TimeOfDay out; midnight is {}.
    sent["specialHours"]["specialHourPeriods"][0]["closeTime"] = {"hours": 24}
    back = from_google(sent, "SE", TODAY)
    assert back == ours
    plan = plan_push(ours, back, {}, TODAY)
    assert plan.send == []
    assert plan.conflicts == {}


async def test_the_dashboard_shows_a_conflict_and_resolves_it(
    client, google: FakeGoogle, no_push_delay: None
) -> None:
    tenant, owner = await linked_tenant(client, google)
    plant_business(google)
    google.business_categories = dict(CATEGORIES)
    await import_business_profile(uuid.UUID(tenant), today=TODAY)
    dashboard = await signed_in(client, owner)
    url = f"/app/t/{tenant}/business-profile"
    assert "Push edits to this location" in (await dashboard.get(url)).text
    chosen = await dashboard.post(f"{url}/google/location", {"gbp_location_id": "900"}, htmx=True)
    assert "pushed to this Business Profile location" in chosen.text
    await _edit(client, tenant, owner, "PUT", {**PROFILE, "name": "Nordic Home Sthlm"})

    page = await dashboard.get(url)
    assert 'data-conflict="name"' in page.text  # first sync: the titles differ
    assert "Nordic Home Stockholm" in page.text
    kept = await dashboard.post(f"{url}/google/conflicts/name", {"keep": "mercato"}, htmx=True)
    assert "Mercato&#39;s value will be pushed" in kept.text
    await run_queued_jobs("channels")
    assert _stored(google)["title"] == "Nordic Home Sthlm"
    assert 'data-conflict="name"' not in (await dashboard.get(url)).text
    unknown = await dashboard.post(f"{url}/google/conflicts/name", {"keep": "google"}, htmx=True)
    assert unknown.status_code == 404
    assert "No conflict on" in unknown.text
