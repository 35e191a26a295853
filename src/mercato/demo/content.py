"""Demo seed: the pages a small shop has (about, shipping and returns, a scheduled sale)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.content import seed_page

PAGES = [
    (
        "about",
        "About Nordic Home & Garden",
        "published",
        "We are a family business from Uppsala selling **furniture, textiles and garden "
        "tools** since 1998.\n\n- Showrooms in Stockholm and Göteborg\n"
        "- Free design advice: [book a visit](https://nordic-home.example/visit)",
    ),
    (
        "shipping-and-returns",
        "Shipping and returns",
        "published",
        "## Shipping\n\nOrders placed before 14:00 leave the warehouse the same day.\n\n"
        "| Destination | Delivery | Price |\n|---|---|---|\n| Sweden | 1 to 2 days | free over "
        "500 SEK |\n| Nordics | 2 to 4 days | 79 SEK |\n\n## Returns\n\n"
        "You may return any item within **30 days**.",
    ),
    (
        "summer-sale",
        "Summer sale",
        "scheduled",
        "# Summer sale\n\nUp to 30 % off garden furniture.",
    ),
]


async def seed_pages(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        now = datetime.now(UTC)
        for slug, title, state, body in PAGES:
            await seed_page(
                session,
                tenant_id,
                slug=slug,
                title=title,
                body=body,
                publish_at=now + timedelta(days=14) if state == "scheduled" else now,
                seo_description=body.splitlines()[0].lstrip("# ")[:160],
            )


STEPS = [SeedStep("content.pages", 60, seed_pages)]
