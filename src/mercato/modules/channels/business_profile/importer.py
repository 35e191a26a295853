"""Google Business Profile: import the merchant's locations and their daily insights.

Through the tenant's Google link (scope `business.manage`): the Account Management API
lists the accounts, the Business Information API their locations, and the Performance API
(`fetchMultiDailyMetricsTimeSeries`) one time series per metric and location. A location
whose store code is one of our location codes is linked to it; staff can link the others.
Google revises the last few days, so each import re-reads from a few days before the last
imported day; rows are upserted, so re-running an import changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import egress
from mercato.kernel.db import get_database
from mercato.kernel.errors import DomainError
from mercato.kernel.logging import get_logger
from mercato.modules.channels.google import (
    BUSINESS_SCOPE,
    GoogleCredentials,
    GoogleLinkRevoked,
    get_link,
)
from mercato.modules.channels.models import GbpInsightDaily, GbpLocation
from mercato.modules.locations import list_locations
from mercato.settings import get_settings

LOCATION_READ_MASK = "name,title,storeCode,storefrontAddress,phoneNumbers,websiteUri,latlng"
# Google's metric → our column. Impressions on Maps and Search are views; Search ones searches.
VIEW_METRICS = (
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
)
SEARCH_METRICS = ("BUSINESS_IMPRESSIONS_DESKTOP_SEARCH", "BUSINESS_IMPRESSIONS_MOBILE_SEARCH")
ACTION_METRICS = {
    "CALL_CLICKS": "calls",
    "BUSINESS_DIRECTION_REQUESTS": "direction_requests",
    "WEBSITE_CLICKS": "website_clicks",
}
FIRST_IMPORT_DAYS = 30
REVISED_DAYS = 3
PAGE_SIZE = 100
HTTP_TIMEOUT_S = 30.0
INSERT_BATCH = 1_000
Params = list[tuple[str, str | int | float | bool | None]]

log = get_logger("mercato.channels.gbp")


class GbpFailed(DomainError):
    status, slug, title = 502, "gbp-failed", "Google Business Profile answered with an error"


@dataclass(frozen=True, slots=True)
class GbpImport:
    locations: int
    linked: int
    insight_days: int


@dataclass(frozen=True, slots=True)
class _Location:
    gbp_location_id: str
    account_id: str
    title: str
    store_code: str | None
    address: str | None
    phone: str | None
    website: str | None
    latitude: float | None
    longitude: float | None


class BusinessProfileApi:
    def __init__(self, http: httpx.AsyncClient, credentials: GoogleCredentials) -> None:
        self._http = http
        self._credentials = credentials
        self._settings = get_settings()

    async def _get(self, url: str, params: Params) -> dict[str, Any]:
        return await self._send("GET", url, params)

    async def _send(
        self, method: str, url: str, params: Params, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        token = await self._credentials()
        response = await self._http.request(
            method, url, params=params, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code == 401:
            raise GoogleLinkRevoked("Google rejected the access token of the link")
        if response.status_code != 200:
            log.info("gbp_refused", url=url, status=response.status_code)
            raise GbpFailed(f"Google Business Profile answered HTTP {response.status_code}")
        answer: dict[str, Any] = response.json()
        return answer

    async def _pages(self, url: str, key: str, params: Params) -> AsyncIterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page_params: Params = [*params, ("pageSize", str(PAGE_SIZE))]
            if token:
                page_params.append(("pageToken", token))
            body = await self._get(url, page_params)
            for item in body.get(key, []):
                yield item
            token = body.get("nextPageToken")
            if not token:
                return

    async def locations(self) -> list[_Location]:
        accounts_url = f"{self._settings.google_business_accounts_url}/accounts"
        found: list[_Location] = []
        async for account in self._pages(accounts_url, "accounts", []):
            account_id = str(account["name"]).removeprefix("accounts/")
            url = (
                f"{self._settings.google_business_information_url}/accounts/{account_id}/locations"
            )
            async for raw in self._pages(url, "locations", [("readMask", LOCATION_READ_MASK)]):
                found.append(_location(account_id, raw))
        return found

    async def location(self, gbp_location_id: str, read_mask: str) -> dict[str, Any]:
        """`locations.get`: the location as Google holds it now (fields of `read_mask`)."""
        url = f"{self._settings.google_business_information_url}/locations/{gbp_location_id}"
        return await self._get(url, [("readMask", read_mask)])

    async def patch_location(
        self, gbp_location_id: str, update_mask: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """`locations.patch`: change only the fields named in `update_mask`."""
        url = f"{self._settings.google_business_information_url}/locations/{gbp_location_id}"
        return await self._send("PATCH", url, [("updateMask", update_mask)], body)

    async def category_name(self, display_name: str, region: str, language: str) -> str | None:
        """`categories.list` filtered by display name: Google's id of a category
        (`categories/gcid:…`) whose display name is `display_name`, or None."""
        url = f"{self._settings.google_business_information_url}/categories"
        params: Params = [
            ("regionCode", region),
            ("languageCode", language),
            ("view", "BASIC"),
            ("filter", f"displayName={display_name}"),
        ]
        async for category in self._pages(url, "categories", params):
            if str(category.get("displayName", "")).casefold() == display_name.casefold():
                return str(category["name"])
        return None

    async def daily_insights(
        self, gbp_location_id: str, start: date, end: date
    ) -> dict[date, dict[str, int]]:
        metrics = [*VIEW_METRICS, *ACTION_METRICS]
        params: Params = [("dailyMetrics", metric) for metric in metrics]
        for edge, day in (("start", start), ("end", end)):
            params += [
                (f"dailyRange.{edge}_date.year", str(day.year)),
                (f"dailyRange.{edge}_date.month", str(day.month)),
                (f"dailyRange.{edge}_date.day", str(day.day)),
            ]
        url = (
            f"{self._settings.google_business_performance_url}/locations/"
            f"{gbp_location_id}:fetchMultiDailyMetricsTimeSeries"
        )
        return _insight_days(await self._get(url, params))


def _location(account_id: str, raw: dict[str, Any]) -> _Location:
    address = raw.get("storefrontAddress") or {}
    lines = [*address.get("addressLines", []), address.get("postalCode"), address.get("locality")]
    latlng = raw.get("latlng") or {}
    return _Location(
        gbp_location_id=str(raw["name"]).removeprefix("locations/"),
        account_id=account_id,
        title=str(raw.get("title") or raw["name"]),
        store_code=raw.get("storeCode") or None,
        address=", ".join(str(part) for part in lines if part) or None,
        phone=(raw.get("phoneNumbers") or {}).get("primaryPhone"),
        website=raw.get("websiteUri"),
        latitude=latlng.get("latitude"),
        longitude=latlng.get("longitude"),
    )


def _insight_days(body: dict[str, Any]) -> dict[date, dict[str, int]]:
    """Fold Google's per-metric series into one row of our counters per day."""
    days: dict[date, dict[str, int]] = {}
    for multi in body.get("multiDailyMetricTimeSeries", []):
        for series in multi.get("dailyMetricTimeSeries", []):
            metric = series.get("dailyMetric")
            for point in (series.get("timeSeries") or {}).get("datedValues", []):
                raw_day = point["date"]
                day = date(raw_day["year"], raw_day["month"], raw_day["day"])
                row = days.setdefault(
                    day, {"views": 0, "searches": 0, **dict.fromkeys(ACTION_METRICS.values(), 0)}
                )
                value = int(point.get("value", 0))  # Google omits zero values
                if metric in VIEW_METRICS:
                    row["views"] += value
                if metric in SEARCH_METRICS:
                    row["searches"] += value
                if metric in ACTION_METRICS:
                    row[ACTION_METRICS[metric]] += value
    return days


async def import_business_profile(tenant_id: uuid.UUID, *, today: date | None = None) -> GbpImport:
    """Import locations and insights up to yesterday; Google calls happen outside any
    transaction, then everything is written in one."""
    today = today or datetime.now(UTC).date()
    database = get_database()
    async with database.tenant_session(tenant_id) as session:
        link = await get_link(session, tenant_id)
        if link is None or BUSINESS_SCOPE not in link.scopes:
            raise GoogleLinkRevoked("The Google link does not grant Business Profile access")
        known = {
            row.gbp_location_id: row for row in (await session.scalars(select(GbpLocation))).all()
        }
        our_codes = {location.code for location in await list_locations(session)}
    credentials = GoogleCredentials(tenant_id)
    insights: dict[str, dict[date, dict[str, int]]] = {}
    async with egress.http_client(timeout_s=HTTP_TIMEOUT_S) as http:
        api = BusinessProfileApi(http, credentials)
        locations = await api.locations()
        end = today - timedelta(days=1)
        for location in locations:
            through = (
                known[location.gbp_location_id].insights_through
                if (location.gbp_location_id in known)
                else None
            )
            start = (
                through - timedelta(days=REVISED_DAYS - 1)
                if through
                else today - timedelta(days=FIRST_IMPORT_DAYS)
            )
            insights[location.gbp_location_id] = await api.daily_insights(
                location.gbp_location_id, min(start, end), end
            )
    async with database.tenant_session(tenant_id) as session:
        linked = await _store_locations(session, tenant_id, locations, known, our_codes)
        days = await _store_insights(session, tenant_id, insights, end)
    return GbpImport(locations=len(locations), linked=linked, insight_days=days)


async def _store_locations(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    locations: list[_Location],
    known: dict[str, GbpLocation],
    our_codes: set[str],
) -> int:
    linked = 0
    for found in locations:
        previous = known.get(found.gbp_location_id)
        # A link staff made by hand stays; otherwise the store code decides.
        code = previous.location_code if previous and previous.location_code else None
        if code is None and found.store_code in our_codes:
            code = found.store_code
        linked += code is not None
        values = {
            "tenant_id": tenant_id,
            "gbp_location_id": found.gbp_location_id,
            "account_id": found.account_id,
            "title": found.title,
            "store_code": found.store_code,
            "location_code": code,
            "address": found.address,
            "phone": found.phone,
            "website": found.website,
            "latitude": found.latitude,
            "longitude": found.longitude,
        }
        statement = insert(GbpLocation).values(values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[GbpLocation.tenant_id, GbpLocation.gbp_location_id],
                set_={
                    **{k: statement.excluded[k] for k in values if k != "tenant_id"},
                    "imported_at": datetime.now(UTC),
                },
            )
        )
    return linked


async def _store_insights(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    insights: dict[str, dict[date, dict[str, int]]],
    through: date,
) -> int:
    rows = [
        {"tenant_id": tenant_id, "gbp_location_id": location_id, "day": day, **counters}
        for location_id, days in insights.items()
        for day, counters in days.items()
    ]
    counters = ("views", "searches", *ACTION_METRICS.values())
    for start in range(0, len(rows), INSERT_BATCH):
        statement = insert(GbpInsightDaily).values(rows[start : start + INSERT_BATCH])
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    GbpInsightDaily.tenant_id,
                    GbpInsightDaily.gbp_location_id,
                    GbpInsightDaily.day,
                ],
                set_={
                    **{name: statement.excluded[name] for name in counters},
                    "imported_at": datetime.now(UTC),
                },
            )
        )
    for location_id in insights:
        location = await session.get(GbpLocation, (tenant_id, location_id))
        if location is not None:
            location.insights_through = through
    return len(rows)
