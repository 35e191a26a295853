"""What is missing or wrong in a business profile, as a list a person can work through.

`error`: search engines would show wrong or no information (missing NAP parts, a phone
number that is not a real number, overlapping or backwards hours). `warning`: the profile
works but is weaker than it should be (no hours, no SEO text, too-long SEO text). `info`:
worth knowing (no coordinates yet, special hours in the past).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import pairwise

from mercato.modules.profile.schemas import (
    WEEKDAYS,
    ProfileProblem,
    ProfileRead,
    ProfileValidation,
    TimeRange,
)
from mercato.modules.profile.service import e164

SEO_TITLE_MAX = 60
SEO_DESCRIPTION_MAX = 160
NAP_PARTS = (
    ("street_address", "street address"),
    ("locality", "city"),
    ("postal_code", "postal code"),
    ("country_code", "country"),
)


class _Problems:
    def __init__(self) -> None:
        self.found: list[ProfileProblem] = []

    def add(self, field: str, severity: str, code: str, message: str) -> None:
        self.found.append(
            ProfileProblem(field=field, severity=severity, code=code, message=message)
        )


def validate_profile(profile: ProfileRead, *, today: date) -> ProfileValidation:
    problems = _Problems()
    _check_nap(profile, problems)
    _check_presence(profile, problems)
    _check_regular_hours(profile, problems)
    _check_special_hours(profile, problems, today)
    _check_seo(profile, problems)
    errors = [p for p in problems.found if p.severity == "error"]
    warnings = [p for p in problems.found if p.severity == "warning"]
    return ProfileValidation(
        valid=not errors, complete=not errors and not warnings, problems=problems.found
    )


def _check_nap(profile: ProfileRead, problems: _Problems) -> None:
    if not profile.name:
        problems.add("name", "error", "missing_name", "The business has no name.")
    for part, label in NAP_PARTS:
        if not getattr(profile.address, part):
            problems.add(
                f"address.{part}", "error", f"missing_{part}", f"The address has no {label}."
            )
    if not profile.phone:
        problems.add("phone", "error", "missing_phone", "The business has no phone number.")
    elif e164(profile.phone, profile.address.country_code) is None:
        problems.add(
            "phone",
            "error",
            "invalid_phone",
            f"{profile.phone!r} is not a valid phone number; give it in international form"
            " (+46 8 123 456 78) or set the address country.",
        )


def _check_presence(profile: ProfileRead, problems: _Problems) -> None:
    if not profile.website:
        problems.add("website", "warning", "missing_website", "The business has no website.")
    elif not profile.website.lower().startswith("https://"):
        problems.add("website", "warning", "website_not_https", "The website is not https.")
    if not profile.categories:
        problems.add(
            "categories", "warning", "missing_categories", "Name at least one business category."
        )
    if not profile.description:
        problems.add(
            "description", "warning", "missing_description", "The business has no description."
        )
    if profile.geo is None:
        status = profile.geocoding.status
        reason = {
            "skipped": "no geocoder is configured; set the coordinates by hand",
            "pending": "geocoding is under way",
            "failed": "geocoding did not find the address",
        }.get(status, "none are set")
        problems.add("geo", "info", "missing_geo", f"No coordinates: {reason}.")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _check_ranges(ranges: list[TimeRange], field: str, problems: _Problems) -> None:
    spans = []
    for index, span in enumerate(ranges):
        opens, closes = _minutes(span.opens), _minutes(span.closes)
        if closes <= opens:
            problems.add(
                f"{field}[{index}]",
                "error",
                "closes_before_opens",
                f"{span.opens}-{span.closes} closes before it opens; split a range past"
                " midnight into one ending 24:00 and one starting 00:00 the next day.",
            )
        else:
            spans.append((opens, closes, span))
    spans.sort(key=lambda item: item[0])
    for (_, first_end, first), (second_start, _, second) in pairwise(spans):
        if second_start < first_end:
            problems.add(
                field,
                "error",
                "overlapping_hours",
                f"{first.opens}-{first.closes} overlaps {second.opens}-{second.closes}.",
            )


def _check_regular_hours(profile: ProfileRead, problems: _Problems) -> None:
    hours = profile.regular_hours
    if not any(hours.day(day) for day in WEEKDAYS):
        problems.add(
            "regular_hours", "warning", "missing_hours", "No opening hours on any weekday."
        )
    for day in WEEKDAYS:
        _check_ranges(hours.day(day), f"regular_hours.{day}", problems)


def _check_special_hours(profile: ProfileRead, problems: _Problems, today: date) -> None:
    counts = Counter(day.date for day in profile.special_hours)
    for repeated in sorted(d for d, n in counts.items() if n > 1):
        problems.add(
            "special_hours",
            "error",
            "duplicate_special_date",
            f"{repeated.isoformat()} has special hours more than once.",
        )
    for index, day in enumerate(profile.special_hours):
        field = f"special_hours[{index}]"
        if day.closed and day.ranges:
            problems.add(
                field, "error", "closed_with_hours", f"{day.date} is closed but lists hours."
            )
        elif not day.closed and not day.ranges:
            problems.add(
                field,
                "error",
                "special_hours_empty",
                f"{day.date} is neither closed nor given hours.",
            )
        _check_ranges(day.ranges, f"{field}.ranges", problems)
        if day.date < today:
            problems.add(field, "info", "past_special_hours", f"{day.date} is in the past.")


def _check_seo(profile: ProfileRead, problems: _Problems) -> None:
    for field, value, limit in (
        ("seo_title", profile.seo_title, SEO_TITLE_MAX),
        ("seo_description", profile.seo_description, SEO_DESCRIPTION_MAX),
    ):
        if not value:
            problems.add(field, "warning", f"missing_{field}", f"No {field.replace('_', ' ')}.")
        elif len(value) > limit:
            problems.add(
                field,
                "warning",
                f"{field}_too_long",
                f"{len(value)} characters; search results show about {limit}.",
            )
