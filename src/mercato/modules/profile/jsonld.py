"""The profile as schema.org `LocalBusiness` JSON-LD, for the shop's pages and search engines.

Only what is known and well-formed goes in: an unparseable phone number or missing
coordinates are left out rather than published wrong. Weekdays with the same ranges share
one `OpeningHoursSpecification`; a closed special day is opens = closes = "00:00", as
schema.org prescribes.
"""

from __future__ import annotations

from typing import Any

from mercato.modules.profile.schemas import WEEKDAYS, ProfileRead, TimeRange
from mercato.modules.profile.service import e164

SCHEMA = "https://schema.org"


def _ranges_key(ranges: list[TimeRange]) -> tuple[tuple[str, str], ...]:
    return tuple((span.opens, span.closes) for span in ranges)


def opening_hours(profile: ProfileRead) -> list[dict[str, Any]]:
    by_ranges: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for day in WEEKDAYS:
        ranges = profile.regular_hours.day(day)
        if ranges:
            by_ranges.setdefault(_ranges_key(ranges), []).append(day.capitalize())
    return [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": days,
            "opens": opens,
            "closes": closes,
        }
        for ranges, days in by_ranges.items()
        for opens, closes in ranges
    ]


def special_opening_hours(profile: ProfileRead) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for day in profile.special_hours:
        ranges = [("00:00", "00:00")] if day.closed else _ranges_key(day.ranges)
        for opens, closes in ranges:
            spec: dict[str, Any] = {
                "@type": "OpeningHoursSpecification",
                "validFrom": day.date.isoformat(),
                "validThrough": day.date.isoformat(),
                "opens": opens,
                "closes": closes,
            }
            if day.label:
                spec["name"] = day.label
            specs.append(spec)
    return specs


def local_business(profile: ProfileRead) -> dict[str, Any]:
    address = profile.address
    document: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": profile.business_type,
        "name": profile.name,
        "description": profile.description,
        "url": profile.website,
        "telephone": e164(profile.phone, address.country_code),
        "email": profile.email,
        "logo": profile.logo_url,
        "image": profile.image_url,
        "priceRange": profile.price_range,
    }
    postal = {
        "streetAddress": address.street_address,
        "addressLocality": address.locality,
        "addressRegion": address.region,
        "postalCode": address.postal_code,
        "addressCountry": address.country_code,
    }
    if any(postal.values()):
        document["address"] = {"@type": "PostalAddress", **postal}
    if profile.geo is not None:
        document["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": profile.geo.lat,
            "longitude": profile.geo.lon,
        }
    document["openingHoursSpecification"] = opening_hours(profile)
    document["specialOpeningHoursSpecification"] = special_opening_hours(profile)
    document["sameAs"] = profile.social_links
    cleaned: dict[str, Any] = _without_empty(document)
    return cleaned


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {key: _without_empty(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [_without_empty(item) for item in value]
    return value
