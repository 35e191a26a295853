"""Demo seed: the pages a small shop has (about, shipping and returns, a scheduled sale)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mercato.demo import DEMO_TENANT_SLUG, DemoContext, SeedStep
from mercato.kernel.db import set_tenant
from mercato.modules.content.models import ContentPage, ContentPageRevision
from mercato.modules.content.rendering import render_markdown
from mercato.modules.identity.models import Tenant

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
    async with context.database.session() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == DEMO_TENANT_SLUG))
        if tenant is None:
            return
        await set_tenant(session, tenant.id)
        existing = set((await session.scalars(select(ContentPage.slug))).all())
        now = datetime.now(UTC)
        for slug, title, state, body in PAGES:
            if slug in existing:
                continue
            page = ContentPage(
                tenant_id=tenant.id,
                slug=slug,
                title=title,
                body=body,
                html=render_markdown(body),
                status="published",
                publish_at=now + timedelta(days=14) if state == "scheduled" else now,
                seo_title=title,
                seo_description=body.splitlines()[0].lstrip("# ")[:160],
                noindex=False,
                revision=1,
                created_by="system",
                updated_by="system",
            )
            session.add(page)
            await session.flush()
            session.add(
                ContentPageRevision(
                    tenant_id=tenant.id,
                    page_id=page.id,
                    revision=1,
                    snapshot={"slug": slug, "title": title, "body": body, "status": "published"},
                    author="system",
                )
            )


STEPS = [SeedStep("content.pages", 60, seed_pages)]
