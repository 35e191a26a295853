"""Demo seed: a complete business profile for the demo tenant (validation finds nothing).

Holiday hours are set for the coming Christmas and New Year, so they stay in the future
whenever the demo is started. The coordinates are set by hand (`manual`): the demo has no
geocoder to ask.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.profile import ProfileWrite, save_profile

DEMO_ACTOR = "system:demo"


def _next(month: int, day: int, today: date) -> date:
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def demo_profile(today: date) -> ProfileWrite:
    weekday = [{"opens": "10:00", "closes": "19:00"}]
    christmas_eve, christmas, new_year = (
        _next(12, 24, today),
        _next(12, 25, today),
        _next(1, 1, today),
    )
    return ProfileWrite.model_validate(
        {
            "name": "Nordic Home & Garden",
            "business_type": "HomeGoodsStore",
            "description": "Scandinavian furniture, textiles, kitchenware, garden tools and"
            " small electronics, in our Stockholm store and online.",
            "address": {
                "street_address": "Drottninggatan 53",
                "locality": "Stockholm",
                "region": "Stockholm County",
                "postal_code": "111 21",
                "country_code": "SE",
            },
            "phone": "08-123 456 78",
            "email": "hello@nordic-home.example",
            "website": "https://demo-shop.example",
            "categories": ["Furniture store", "Home goods store", "Garden center"],
            "regular_hours": {
                "monday": weekday,
                "tuesday": weekday,
                "wednesday": weekday,
                "thursday": [{"opens": "10:00", "closes": "20:00"}],
                "friday": weekday,
                "saturday": [{"opens": "10:00", "closes": "17:00"}],
                "sunday": [{"opens": "11:00", "closes": "16:00"}],
            },
            "special_hours": [
                {
                    "date": christmas_eve.isoformat(),
                    "ranges": [{"opens": "10:00", "closes": "13:00"}],
                    "label": "Christmas Eve",
                },
                {"date": christmas.isoformat(), "closed": True, "label": "Christmas Day"},
                {"date": new_year.isoformat(), "closed": True, "label": "New Year's Day"},
            ],
            "social_links": [
                "https://www.instagram.com/nordichomegarden",
                "https://www.facebook.com/nordichomegarden",
            ],
            "seo_title": "Nordic Home & Garden: Scandinavian furniture in Stockholm",
            "seo_description": "Sofas, textiles, kitchenware and garden tools with Nordic"
            " design. Visit our store on Drottninggatan or shop online.",
            "price_range": "€€",
            "geo": {"lat": 59.3346, "lon": 18.0629},
        }
    )


async def seed_profile(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        profile = demo_profile(datetime.now(UTC).date())
        await save_profile(session, tenant_id, DEMO_ACTOR, profile, None, replace=True)
    context.notes.append("  profile:   complete (GET {T}/profile/validation, /profile/jsonld)")


STEPS = [SeedStep("profile.demo_profile", 25, seed_profile)]
