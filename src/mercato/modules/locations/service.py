"""Create, replace and read locations. Other modules (stock, master data, analytics) call
`upsert_location` and `list_locations` rather than touching the table."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import NotFound
from mercato.kernel.events import emit
from mercato.modules.locations.models import Location
from mercato.modules.locations.schemas import Geo, LocationRead, LocationWrite


def to_read(location: Location) -> LocationRead:
    geo = (
        Geo(lat=location.latitude, lon=location.longitude)
        if location.latitude is not None and location.longitude is not None
        else None
    )
    return LocationRead(
        code=location.code,
        name=location.name,
        kind=location.kind,
        address=location.address,
        timezone=location.timezone,
        geo=geo,
        phone=location.phone,
        email=location.email,
        status=location.status,
        created_at=location.created_at,
        updated_at=location.updated_at,
    )


async def upsert_location(
    session: AsyncSession, tenant_id: uuid.UUID, code: str, data: LocationWrite
) -> tuple[Location, bool]:
    """Create or replace the location `code`; returns it and whether it was created."""
    location = await session.get(Location, (tenant_id, code), with_for_update=True)
    created = location is None
    if location is None:
        location = Location(tenant_id=tenant_id, code=code)
        session.add(location)
    location.name = data.name.strip()
    location.kind = data.kind
    location.address = data.address
    location.timezone = data.timezone
    location.latitude = data.geo.lat if data.geo else None
    location.longitude = data.geo.lon if data.geo else None
    location.phone = data.phone
    location.email = str(data.email) if data.email else None
    location.status = data.status
    await session.flush()
    await session.refresh(location)
    await emit(
        session,
        tenant_id,
        "location.created" if created else "location.updated",
        {"code": code, "name": location.name, "kind": location.kind},
    )
    return location, created


async def get_location(session: AsyncSession, tenant_id: uuid.UUID, code: str) -> Location:
    location = await session.get(Location, (tenant_id, code))
    if location is None:
        raise NotFound(f"No location {code!r}")
    return location


async def list_locations(
    session: AsyncSession, *, include_archived: bool = False
) -> list[Location]:
    """Every location of the session's tenant, by code."""
    query = select(Location).order_by(Location.code)
    if not include_archived:
        query = query.where(Location.status == "active")
    return list((await session.scalars(query)).all())
