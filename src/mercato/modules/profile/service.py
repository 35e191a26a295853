"""Read and write the business profile (one per tenant).

Phone numbers are stored in E.164 when they parse (the address's country is the default
region for a national number), otherwise as given so the validation can name the problem.
A changed address queues geocoding when a geocoder is configured; with none the
coordinates stay unknown (`skipped`) rather than guessed. Coordinates set by hand win.
"""

from __future__ import annotations

import uuid
from typing import Any

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.events import emit
from mercato.kernel.jobs import defer
from mercato.kernel.security import Principal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.profile.geocoding import configured_geocoder
from mercato.modules.profile.models import BusinessProfile
from mercato.modules.profile.schemas import (
    Address,
    Geo,
    Geocoding,
    ProfileFields,
    ProfileRead,
    RegularHours,
    SpecialHours,
)

PROFILE_UPDATED = "profile.updated"
ADDRESS_FIELDS = ("street_address", "locality", "region", "postal_code", "country_code")
DEFAULT_TYPE = "LocalBusiness"


async def get_profile(session: AsyncSession, tenant_id: uuid.UUID) -> BusinessProfile | None:
    """The tenant's profile row, or None when nothing was saved yet."""
    return await session.get(BusinessProfile, tenant_id)


def e164(phone: str | None, country_code: str | None) -> str | None:
    """`phone` in E.164 when it is a valid number, else None."""
    if not phone:
        return None
    try:
        parsed = phonenumbers.parse(phone, country_code)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def address_of(profile: BusinessProfile) -> Address:
    return Address(**{name: getattr(profile, name) for name in ADDRESS_FIELDS})


def to_read(profile: BusinessProfile | None) -> ProfileRead:
    row = profile or BusinessProfile(business_type=DEFAULT_TYPE, geocoding_status="skipped")
    geo = (
        Geo(lat=row.latitude, lon=row.longitude)
        if row.latitude is not None and row.longitude is not None
        else None
    )
    return ProfileRead(
        name=row.name,
        business_type=row.business_type or DEFAULT_TYPE,
        description=row.description,
        address=address_of(row),
        phone=row.phone,
        email=row.email,
        website=row.website,
        categories=list(row.categories or []),
        regular_hours=RegularHours.model_validate(row.regular_hours or {}),
        special_hours=[SpecialHours.model_validate(day) for day in row.special_hours or []],
        social_links=list(row.social_links or []),
        seo_title=row.seo_title,
        seo_description=row.seo_description,
        logo_url=row.logo_url,
        image_url=row.image_url,
        price_range=row.price_range,
        geo=geo,
        geocoding=Geocoding(
            status=row.geocoding_status or "skipped",
            source=row.geo_source,
            geocoded_at=row.geocoded_at,
        ),
        updated_at=row.updated_at,
    )


def _snapshot(profile: BusinessProfile) -> dict[str, Any]:
    return to_read(profile).model_dump(mode="json", exclude={"geocoding", "updated_at"})


async def save_profile(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    actor: Principal | str,
    fields: ProfileFields,
    meta: RequestMeta | None,
    *,
    replace: bool,
) -> BusinessProfile:
    """PUT (`replace`: unsent fields are cleared) or PATCH (only sent fields change)."""
    profile = await session.get(BusinessProfile, tenant_id, with_for_update=True)
    if profile is None:
        profile = BusinessProfile(
            tenant_id=tenant_id, business_type=DEFAULT_TYPE, geocoding_status="skipped"
        )
        session.add(profile)
    before = _snapshot(profile)
    sent = set(ProfileFields.model_fields) if replace else fields.model_fields_set
    _apply(profile, fields, sent)
    address_changed = address_of(profile).model_dump() != before["address"]
    geo_pending = _update_geo(profile, fields, replace=replace, address_changed=address_changed)
    await session.flush()
    await session.refresh(profile)
    after = _snapshot(profile)
    changes = field_changes(before, after)
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="profile.updated",
        target="profile",
        changes=changes,
        meta=meta,
    )
    if changes:
        await emit(session, tenant_id, PROFILE_UPDATED, {"fields": sorted(changes)})
    if geo_pending:
        await defer(session, "profile.geocode", tenant_id=str(tenant_id))
    return profile


def _apply(profile: BusinessProfile, fields: ProfileFields, sent: set[str]) -> None:
    simple = (
        "name",
        "description",
        "website",
        "seo_title",
        "seo_description",
        "logo_url",
        "image_url",
        "price_range",
    )
    for name in simple:
        if name in sent:
            setattr(profile, name, getattr(fields, name))
    if "business_type" in sent:
        profile.business_type = fields.business_type or DEFAULT_TYPE
    if "email" in sent:
        profile.email = str(fields.email) if fields.email else None
    if "address" in sent:
        address = fields.address or Address()
        for name in ADDRESS_FIELDS:
            setattr(profile, name, getattr(address, name))
    if "phone" in sent or "address" in sent:
        raw = fields.phone if "phone" in sent else profile.phone
        profile.phone = e164(raw, profile.country_code) or (raw.strip() if raw else None)
    if "categories" in sent:
        profile.categories = fields.categories or []
    if "social_links" in sent:
        profile.social_links = fields.social_links or []
    if "regular_hours" in sent:
        hours = fields.regular_hours or RegularHours()
        profile.regular_hours = hours.model_dump(mode="json")
    if "special_hours" in sent:
        special = sorted(fields.special_hours or [], key=lambda day: day.date)
        profile.special_hours = [day.model_dump(mode="json") for day in special]


def _update_geo(
    profile: BusinessProfile, fields: ProfileFields, *, replace: bool, address_changed: bool
) -> bool:
    """Apply coordinates sent by hand, or decide whether to geocode; True = queue it.

    Geocoded coordinates follow the address; hand-set ones stay until a write clears them
    (`"geo": null`, or a PUT without `geo`).
    """
    if fields.geo is not None:
        profile.latitude, profile.longitude = fields.geo.lat, fields.geo.lon
        profile.geo_source, profile.geocoding_status = "manual", "manual"
        return False
    manual = profile.geo_source == "manual"
    cleared = "geo" in fields.model_fields_set or (replace and manual)
    if cleared or (address_changed and not manual):
        profile.latitude = profile.longitude = None
        profile.geo_source = None
        profile.geocoded_at = None
        geocoder = configured_geocoder()
        if geocoder is None or not profile.locality:
            profile.geocoding_status = "skipped"
            return False
        profile.geocoding_status = "pending"
        return True
    return False
