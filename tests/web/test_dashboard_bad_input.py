"""Odd input to the capability screens (NUL characters, huge numbers, impossible dates, unknown
ids) is answered with a 4xx problem or an empty result, never a server error."""

from __future__ import annotations

from tests.factories import create_tenant, signup_and_login
from tests.web.browser import signed_in

CASES = [
    "catalog/products?q=%00",
    "catalog/products?min_price=1e30",
    "catalog/products?max_price=NaN",
    "catalog/products?cursor=zzz",
    "catalog/products?category=%00",
    "catalog/products?brand=%00",
    "catalog/products/%00",
    "catalog/categories/00000000-0000-0000-0000-000000000000",
    "catalog/categories/not-a-uuid",
    "events?user_id=%00",
    "events?start=0001-01-01",
    "events?end=9999-12-31",
    "events?cursor=zz",
    "events/users/%00",
    "tracking?start=0001-01-01&end=9999-12-31",
    "tracking?start=2026-12-01&end=2026-01-01",
    "personalization/recommendations?user_id=%00",
    "personalization/recommendations?product_id=%00",
    "personalization/widgets?placement=%00",
    "personalization/widgets/cart/preview?draft=1&title=%00",
    "personalization/widgets/bad%20place/preview",
    "personalization/experiments/00000000-0000-0000-0000-000000000000",
    "catalog/imports/00000000-0000-0000-0000-000000000000",
    "catalog/categories/00000000-0000-0000-0000-000000000000?q=%00",
]


async def test_odd_input_is_never_a_server_error(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    dashboard = await signed_in(client, owner)
    bad = []
    for case in CASES:
        r = await dashboard.get(f"/app/t/{tenant}/{case}")
        if r.status_code >= 500:
            bad.append((case, r.status_code))
    posts = [
        (
            "catalog/new-product",
            {"product_id": "\x00", "name": "x", "price": "1e30", "currency": "EUR"},
        ),
        (
            "catalog/new-product",
            {"product_id": "a", "name": "\x00", "price": "1", "currency": "EUR"},
        ),
        (
            "personalization/experiments",
            {
                "name": "\x00",
                "placement": "p",
                "control_strategy": "trending",
                "variant_strategy": "trending",
                "traffic_split": "50",
                "metric": "ctr",
            },
        ),
        ("business-profile", {"name": "\x00"}),
        ("content/pages", {"title": "\x00", "slug": "a"}),
        ("settings/integrations/smtp", {"host": "h", "from_address": "\x00@x.y"}),
        ("tracking/imports", {"source": "ga4_file", "path": "\x00"}),
        ("personalization/widgets/cart", {"title": "\x00"}),
        (
            "catalog/categories/00000000-0000-0000-0000-000000000000/align",
            {"google_category_id": "99999999999999999999"},
        ),
    ]
    for path, data in posts:
        r = await dashboard.post(f"/app/t/{tenant}/{path}", data, htmx=True)
        if r.status_code >= 500:
            bad.append((path, r.status_code))
    assert bad == []
