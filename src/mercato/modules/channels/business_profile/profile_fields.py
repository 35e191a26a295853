"""The business profile's fields as Google Business Profile holds them, and back.

Values are compared in Mercato's shape (JSON of `ProfileRead` parts): Google's answer is
converted to it first, so a phone number Google reformats, a `TimeOfDay` that leaves out
zero minutes or a category's letter case do not read as edits. Special hours before
today are left out on both sides (Google drops past dates); their labels are Mercato's
only and are not compared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import phonenumbers

from mercato.modules.profile import ProfileRead

Value = Any  # JSON: str | list | dict | None
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Our field → the `updateMask` path `locations.patch` takes for it.
UPDATE_MASKS = {
    "name": "title",
    "address": "storefrontAddress",
    "phone": "phoneNumbers.primaryPhone",
    "website": "websiteUri",
    "regular_hours": "regularHours",
    "special_hours": "specialHours",
    "categories": "categories",
}
READ_MASK = (
    "name,title,storefrontAddress,phoneNumbers,websiteUri,regularHours,specialHours,categories"
)
ADDRESS_PARTS = {  # ours → PostalAddress
    "country_code": "regionCode",
    "postal_code": "postalCode",
    "region": "administrativeArea",
    "locality": "locality",
}


def from_profile(profile: ProfileRead, today: date) -> dict[str, Value]:
    """The pushed fields of our profile, in the shape they are compared in."""
    data = profile.model_dump(mode="json")
    address = {k: v for k, v in data["address"].items() if v}
    return {
        "name": data["name"],
        "address": address or None,
        "phone": _phone(data["phone"], data["address"]["country_code"]),
        "website": _website(data["website"]),
        "regular_hours": _regular(data["regular_hours"]),
        "special_hours": _special(data["special_hours"], today),
        "categories": data["categories"] or [],
    }


def from_google(location: dict[str, Any], country: str | None, today: date) -> dict[str, Value]:
    """Google's location (a `locations.get` answer) in the shape ours are compared in."""
    raw_address = location.get("storefrontAddress") or {}
    address = {
        ours: raw_address[theirs]
        for ours, theirs in ADDRESS_PARTS.items()
        if raw_address.get(theirs)
    }
    lines = [line for line in raw_address.get("addressLines", []) if line]
    if lines:
        address["street_address"] = ", ".join(lines)
    phone = (location.get("phoneNumbers") or {}).get("primaryPhone")
    categories = location.get("categories") or {}
    names = [categories.get("primaryCategory"), *categories.get("additionalCategories", [])]
    return {
        "name": location.get("title"),
        "address": address or None,
        "phone": _phone(phone, address.get("country_code") or country),
        "website": _website(location.get("websiteUri")),
        "regular_hours": _regular(_google_regular(location.get("regularHours") or {})),
        "special_hours": _special(_google_special(location.get("specialHours") or {}), today),
        "categories": [str(c.get("displayName") or c.get("name")) for c in names if c],
    }


def same(field: str, left: Value, right: Value) -> bool:
    """Whether two values of `field` say the same (categories ignore letter case)."""
    if field == "categories":
        return [c.casefold() for c in left or []] == [c.casefold() for c in right or []]
    return bool(left == right)


def _phone(phone: str | None, country: str | None) -> str | None:
    if not phone:
        return None
    try:
        parsed = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return phone.strip()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _website(url: str | None) -> str | None:
    return url.strip().rstrip("/") if url else None


def _regular(hours: dict[str, Any]) -> dict[str, Any]:
    return {day: sorted(hours.get(day) or [], key=lambda r: r["opens"]) for day in WEEKDAYS}


def _special(days: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    kept = [
        {"date": day["date"], "closed": bool(day.get("closed")), "ranges": day.get("ranges") or []}
        for day in days
        if date.fromisoformat(day["date"]) >= today
    ]
    return sorted(kept, key=lambda day: day["date"])


# -- Google → ours -------------------------------------------------------------------------


def _time(value: dict[str, Any] | None) -> str:
    value = value or {}  # proto3 JSON leaves zero fields out: {} is midnight
    return f"{int(value.get('hours', 0)):02d}:{int(value.get('minutes', 0)):02d}"


def _google_regular(hours: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    days: dict[str, list[dict[str, str]]] = {}
    for period in hours.get("periods", []):
        opens, closes = _time(period.get("openTime")), _time(period.get("closeTime"))
        if closes == "00:00" and period.get("closeDay") != period.get("openDay"):
            closes = "24:00"
        day = str(period.get("openDay", "")).lower()
        days.setdefault(day, []).append({"opens": opens, "closes": closes})
    return days


def _google_date(value: dict[str, Any]) -> date:
    return date(int(value["year"]), int(value["month"]), int(value["day"]))


def _google_special(hours: dict[str, Any]) -> list[dict[str, Any]]:
    by_day: dict[str, dict[str, Any]] = {}
    for period in hours.get("specialHourPeriods", []):
        first = _google_date(period["startDate"])
        last = _google_date(period.get("endDate") or period["startDate"])
        closed = bool(period.get("closed"))
        if not closed and last > first:  # open past midnight: one range on the first day
            last = first
        day = first
        while day <= last:
            entry = by_day.setdefault(day.isoformat(), {"date": day.isoformat(), "ranges": []})
            entry["closed"] = closed
            if not closed:
                closes = _time(period.get("closeTime"))
                entry["ranges"].append(
                    {
                        "opens": _time(period.get("openTime")),
                        "closes": "24:00" if closes == "00:00" else closes,
                    }
                )
            day += timedelta(days=1)
    return list(by_day.values())


# -- ours → Google -------------------------------------------------------------------------


def _time_of_day(text: str) -> dict[str, int]:
    hours, minutes = (int(part) for part in text.split(":"))
    return {"hours": hours, "minutes": minutes}


def _weekday_after(day: str) -> str:
    return WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7]


def _google_date_of(text: str, plus_days: int = 0) -> dict[str, int]:
    day = date.fromisoformat(text) + timedelta(days=plus_days)
    return {"year": day.year, "month": day.month, "day": day.day}


def _overnight(opens: str, closes: str) -> bool:
    return closes != "24:00" and closes <= opens


def _to_address(value: Value) -> dict[str, Any]:
    value = value or {}
    address: dict[str, Any] = {
        theirs: value[ours] for ours, theirs in ADDRESS_PARTS.items() if value.get(ours)
    }
    if value.get("street_address"):
        address["addressLines"] = [value["street_address"]]
    return address


def _to_regular(value: Value) -> dict[str, Any]:
    periods = []
    for day in WEEKDAYS:
        for hours in (value or {}).get(day, []):
            overnight = _overnight(hours["opens"], hours["closes"])
            periods.append(
                {
                    "openDay": day.upper(),
                    "openTime": _time_of_day(hours["opens"]),
                    "closeDay": (_weekday_after(day) if overnight else day).upper(),
                    "closeTime": _time_of_day(hours["closes"]),
                }
            )
    return {"periods": periods}


def _to_special(value: Value) -> dict[str, Any]:
    periods: list[dict[str, Any]] = []
    for day in value or []:
        if day["closed"] or not day["ranges"]:
            start = _google_date_of(day["date"])
            periods.append({"startDate": start, "endDate": start, "closed": True})
            continue
        for hours in day["ranges"]:
            overnight = _overnight(hours["opens"], hours["closes"])
            periods.append(
                {
                    "startDate": _google_date_of(day["date"]),
                    "openTime": _time_of_day(hours["opens"]),
                    "endDate": _google_date_of(day["date"], 1 if overnight else 0),
                    "closeTime": _time_of_day(hours["closes"]),
                }
            )
    return {"specialHourPeriods": periods}


def _to_categories(names: list[str]) -> dict[str, Any]:
    """`names` are Google's category ids (`categories/gcid:…`), the primary first."""
    if not names:
        return {}
    return {
        "primaryCategory": {"name": names[0]},
        "additionalCategories": [{"name": name} for name in names[1:]],
    }


TO_GOOGLE: dict[str, tuple[str, Callable[[Value], Any]]] = {
    "name": ("title", lambda value: value),
    "address": ("storefrontAddress", _to_address),
    "phone": ("phoneNumbers", lambda value: {"primaryPhone": value} if value else {}),
    "website": ("websiteUri", lambda value: value),
    "regular_hours": ("regularHours", _to_regular),
    "special_hours": ("specialHours", _to_special),
    "categories": ("categories", _to_categories),
}


def location_body(values: dict[str, Value]) -> dict[str, Any]:
    """The `Location` body of a `locations.patch` for `values` (categories already as ids)."""
    body: dict[str, Any] = {}
    for field, value in values.items():
        key, convert = TO_GOOGLE[field]
        converted = convert(value)
        if converted not in (None, {}):
            body[key] = converted
    return body


def pruned(field: str, value: Value, today: date) -> Value:
    """A remembered value as it compares today (special hours that passed drop out)."""
    if field == "special_hours" and value:
        return [day for day in value if date.fromisoformat(day["date"]) >= today]
    return value
