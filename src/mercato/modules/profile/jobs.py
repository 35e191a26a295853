"""Profile jobs: geocode the address after it changed (when a geocoder is configured)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mercato.kernel.db import get_database
from mercato.kernel.jobs import task
from mercato.kernel.logging import get_logger
from mercato.modules.profile.geocoding import GeocodingFailed, configured_geocoder
from mercato.modules.profile.models import BusinessProfile
from mercato.modules.profile.service import address_of

log = get_logger("mercato.profile.jobs")


@task("profile.geocode", queue="profile", timeout_s=120)
async def geocode_profile(*, tenant_id: str) -> None:
    """Look the address up outside any transaction; keep the answer only if the address
    is still the one that was looked up (a later edit queues its own job)."""
    tenant = uuid.UUID(tenant_id)
    geocoder = configured_geocoder()
    database = get_database()
    async with database.tenant_session(tenant) as session:
        profile = await session.get(BusinessProfile, tenant)
        if profile is None or profile.geocoding_status != "pending" or geocoder is None:
            return
        address = address_of(profile)
    failed = False
    try:
        point = await geocoder.geocode(address)
    except GeocodingFailed as exc:  # saving the address again tries again
        log.warning("geocoding_failed", tenant_id=tenant_id, error=str(exc))
        point, failed = None, True
    async with database.tenant_session(tenant) as session:
        profile = await session.get(BusinessProfile, tenant, with_for_update=True)
        if profile is None or profile.geocoding_status != "pending":
            return
        if address_of(profile) != address:
            return
        profile.geocoded_at = None if failed else datetime.now(UTC)
        if point is None:
            profile.geocoding_status = "failed"
            return
        profile.latitude, profile.longitude = point.lat, point.lon
        profile.geo_source, profile.geocoding_status = geocoder.name, "done"
