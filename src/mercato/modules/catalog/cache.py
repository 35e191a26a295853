"""Product snapshots for other modules, behind a tenant-scoped Redis cache.

Commerce prices carts from these snapshots and recommendations render them, so reads are
hot and writes rare: a snapshot is cached for `SNAPSHOT_TTL_S` and its key is deleted
after every committed change (see `notify.products_changed`). A reader racing a writer may
re-cache the old value; the TTL bounds how long that can last. Redis being down degrades
to reading PostgreSQL, never to an error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key

log = get_logger("mercato.catalog.cache")

SNAPSHOT_TTL_S = 600
DELETE_BATCH = 1_000


@dataclass(frozen=True)
class ProductSnapshot:
    """What carts, orders and recommendation widgets need to know about a product."""

    product_id: str
    name: str
    price: Decimal
    sale_price: Decimal | None
    currency: str
    available: bool
    deleted: bool
    image_url: str | None
    category: str | None
    brand: str | None

    @property
    def current_price(self) -> Decimal:
        """The price a shopper pays now: the sale price when there is one."""
        return self.sale_price if self.sale_price is not None else self.price

    def to_json(self) -> bytes:
        data = asdict(self)
        data["price"] = str(self.price)
        data["sale_price"] = None if self.sale_price is None else str(self.sale_price)
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> ProductSnapshot:
        data: dict[str, Any] = json.loads(raw)
        data["price"] = Decimal(data["price"])
        if data["sale_price"] is not None:
            data["sale_price"] = Decimal(data["sale_price"])
        return cls(**data)


def snapshot_key(tenant_id: uuid.UUID, product_id: str) -> str:
    return tenant_key(tenant_id, "catalog", "product", product_id)


SNAPSHOT_SQL = text(
    "SELECT product_id, name, price, sale_price, currency, available, "
    "deleted_at IS NOT NULL AS deleted, image_url, category_path AS category, brand "
    "FROM product WHERE tenant_id = :tenant_id AND product_id = ANY(:ids)"
)


async def get_products(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Iterable[str]
) -> dict[str, ProductSnapshot]:
    """Snapshots of the products that exist (deleted ones included, flagged), by id.

    `session` must be scoped to `tenant_id`. Unknown ids are simply absent.
    """
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    keys = [snapshot_key(tenant_id, pid) for pid in ids]
    found: dict[str, ProductSnapshot] = {}
    redis_ok = True
    try:
        cached = await get_redis().mget(keys)
    except RedisError as exc:
        log.warning("product_cache_unavailable", error=str(exc))
        cached, redis_ok = [None] * len(ids), False
    for pid, raw in zip(ids, cached, strict=True):
        if raw is not None:
            found[pid] = ProductSnapshot.from_json(raw)
    missing = [pid for pid in ids if pid not in found]
    if not missing:
        return found
    rows = await session.execute(SNAPSHOT_SQL, {"tenant_id": tenant_id, "ids": missing})
    loaded = [ProductSnapshot(**row._asdict()) for row in rows]
    found.update({snapshot.product_id: snapshot for snapshot in loaded})
    if loaded and redis_ok:
        try:
            async with get_redis().pipeline(transaction=False) as pipe:
                for snapshot in loaded:
                    pipe.set(
                        snapshot_key(tenant_id, snapshot.product_id),
                        snapshot.to_json(),
                        ex=SNAPSHOT_TTL_S,
                    )
                await pipe.execute()
        except RedisError as exc:
            log.warning("product_cache_unavailable", error=str(exc))
    return found


async def forget_products(tenant_id: uuid.UUID, product_ids: list[str]) -> None:
    """Drop cached snapshots (called after the change committed)."""
    keys = [snapshot_key(tenant_id, pid) for pid in product_ids]
    try:
        for start in range(0, len(keys), DELETE_BATCH):
            await get_redis().delete(*keys[start : start + DELETE_BATCH])
    except RedisError as exc:
        log.warning("product_cache_invalidation_failed", error=str(exc), products=len(keys))
