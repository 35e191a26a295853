"""Demo seed: widgets on the demo shop's home page, product pages and cart."""

from __future__ import annotations

from sqlalchemy import select

from mercato.demo import DEMO_TENANT_SLUG, DemoContext, SeedStep
from mercato.modules.identity.models import Tenant
from mercato.modules.widgets.schemas import Theme, WidgetWrite
from mercato.modules.widgets.service import put_widget

DEMO_PRODUCT_URL = "https://demo-shop.example/products/{product_id}"
DEMO_WIDGETS = {
    "home": WidgetWrite(
        title="Picked for you", layout="grid", columns=4, max_items=8, product_url=DEMO_PRODUCT_URL
    ),
    "product_page": WidgetWrite(
        title="Goes well with this",
        layout="carousel",
        columns=4,
        max_items=8,
        cta_text="See it",
        product_url=DEMO_PRODUCT_URL,
    ),
    "cart": WidgetWrite(
        title="Complete your order",
        layout="list",
        columns=1,
        max_items=4,
        cta_text="Add",
        product_url=DEMO_PRODUCT_URL,
        theme=Theme(primary_color="#2f6f4f"),
    ),
}


async def seed_widgets(context: DemoContext) -> None:
    async with context.database.session() as lookup:
        tenant_id = await lookup.scalar(select(Tenant.id).where(Tenant.slug == DEMO_TENANT_SLUG))
    assert tenant_id is not None
    async with context.database.tenant_session(tenant_id) as session:
        for placement, widget in DEMO_WIDGETS.items():
            await put_widget(session, tenant_id, placement, widget)


STEPS = [SeedStep("widgets.demo_widgets", 60, seed_widgets)]
