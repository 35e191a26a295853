"""Shared set-up for tracking tests: a tenant with an owner and a secret key."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from tests.factories import Staff, create_api_key, create_tenant, signup_and_login


@dataclass
class Shop:
    tenant_id: str
    owner: Staff
    key: str

    @property
    def base(self) -> str:
        return f"/api/v1/tenants/{self.tenant_id}"

    @property
    def key_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


async def new_shop(client: httpx.AsyncClient) -> Shop:
    owner = await signup_and_login(client)
    tenant_id = await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant_id))["key"]
    return Shop(tenant_id, owner, key)


async def set_locale(client: httpx.AsyncClient, shop: Shop, locale: str, currency: str) -> None:
    """The shop's figures are written for `locale`, its amounts in `currency`."""
    changed = await client.patch(
        shop.base,
        json={"settings": {"locale": locale, "currency": currency}},
        headers=shop.owner.headers,
    )
    assert changed.status_code == 200, changed.text


def view(user: str = "u1", product: str = "p1", **extra: Any) -> dict[str, Any]:
    return {"type": "view_item", "user_id": user, "product_id": product, **extra}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def stored_types(owner_dsn: str, tenant_id: str, source: str) -> Counter[str]:
    """Events stored for a tenant from one source, counted per type (read as the owner)."""
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(
            "SELECT type, count(*) FROM event WHERE tenant_id = %s AND source = %s GROUP BY 1",
            (tenant_id, source),
        ).fetchall()
    return Counter(dict(rows))
