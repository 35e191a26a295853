"""Demo seed: widgets on the demo shop's home page, product pages and cart."""

from __future__ import annotations

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.widgets import Theme, WidgetWrite, put_widget

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
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        for placement, widget in DEMO_WIDGETS.items():
            await put_widget(session, tenant_id, placement, widget)


STEPS = [SeedStep("widgets.demo_widgets", 60, seed_widgets)]
