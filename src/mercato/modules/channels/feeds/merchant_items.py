"""What each Merchant Center account holds of the tenant's products, as Mercato knows it.

`merchant_item` remembers, per account and offer id, a hash of the `ProductInput` last
pushed (a live sync skips a product whose input did not change), the error of a push Google
refused, and Google's status read back. `merchant_local_inventory` does the same for each
product's `LocalInventory` per store. A pushed input is re-sent once it is `REFRESH` old
even when unchanged: Google lets products it has not heard of for 30 days expire.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.channels.models import MerchantItem, MerchantLocalInventory

REFRESH = timedelta(days=7)


def content_hash(body: dict[str, Any]) -> str:
    """A stable digest of a JSON body: equal bodies, equal hashes."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_current(held_hash: str | None, pushed_at: datetime | None, new_hash: str) -> bool:
    """Whether what was pushed equals `new_hash` and is recent enough not to expire."""
    return (
        held_hash == new_hash and pushed_at is not None and pushed_at > datetime.now(UTC) - REFRESH
    )


async def held_items(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str, offer_ids: Collection[str]
) -> dict[str, MerchantItem]:
    rows = await session.scalars(
        select(MerchantItem).where(
            MerchantItem.tenant_id == tenant_id,
            MerchantItem.account_id == account_id,
            MerchantItem.offer_id.in_(list(offer_ids)),
        )
    )
    return {row.offer_id: row for row in rows}


async def held_local(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str, offer_ids: Collection[str]
) -> dict[tuple[str, str], MerchantLocalInventory]:
    rows = await session.scalars(
        select(MerchantLocalInventory).where(
            MerchantLocalInventory.tenant_id == tenant_id,
            MerchantLocalInventory.account_id == account_id,
            MerchantLocalInventory.offer_id.in_(list(offer_ids)),
        )
    )
    return {(row.offer_id, row.store_code): row for row in rows}


async def record_pushed(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    account_id: str,
    pushed: Sequence[tuple[str, str | None, str | None]],
) -> None:
    """(offer id, content hash, error) per push: a success stores the hash (a new item is
    `pending` until Google's status is read), a refusal keeps the old hash and the error."""
    if not pushed:
        return
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "tenant_id": tenant_id,
            "account_id": account_id,
            "offer_id": offer_id,
            "content_hash": digest if error is None else None,
            "pushed_at": now if error is None else None,
            "push_error": error,
            "status": "pending",
            "issues": [],
        }
        for offer_id, digest, error in pushed
    ]
    statement = insert(MerchantItem).values(rows)
    excluded = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[MerchantItem.tenant_id, MerchantItem.account_id, MerchantItem.offer_id],
            set_={
                "content_hash": func.coalesce(excluded.content_hash, MerchantItem.content_hash),
                "pushed_at": func.coalesce(excluded.pushed_at, MerchantItem.pushed_at),
                "push_error": excluded.push_error,
            },
        )
    )


async def forget_items(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str, offer_ids: Collection[str]
) -> None:
    """Google no longer holds these products: drop them and their local inventories."""
    if not offer_ids:
        return
    for table in (MerchantItem, MerchantLocalInventory):
        await session.execute(
            delete(table).where(
                table.tenant_id == tenant_id,
                table.account_id == account_id,
                table.offer_id.in_(list(offer_ids)),
            )
        )


async def record_local(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    account_id: str,
    pushed: Sequence[tuple[str, str, str]],
    removed: Collection[tuple[str, str]],
) -> None:
    """Local inventories sent, (offer id, store code, hash), and those deleted."""
    now = datetime.now(UTC)
    if pushed:
        statement = insert(MerchantLocalInventory).values(
            [
                {
                    "tenant_id": tenant_id,
                    "account_id": account_id,
                    "offer_id": offer_id,
                    "store_code": store_code,
                    "content_hash": digest,
                    "pushed_at": now,
                }
                for offer_id, store_code, digest in pushed
            ]
        )
        await session.execute(
            statement.on_conflict_do_update(
                constraint="pk_merchant_local_inventory",
                set_={"content_hash": statement.excluded.content_hash, "pushed_at": now},
            )
        )
    if removed:
        await session.execute(
            delete(MerchantLocalInventory).where(
                MerchantLocalInventory.tenant_id == tenant_id,
                MerchantLocalInventory.account_id == account_id,
                tuple_(MerchantLocalInventory.offer_id, MerchantLocalInventory.store_code).in_(
                    list(removed)
                ),
            )
        )


async def offers_not_in(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str, keep: Collection[str]
) -> list[str]:
    """Offers the account holds (pushed by Mercato or read back) that are not in `keep`."""
    rows = await session.scalars(
        select(MerchantItem.offer_id)
        .where(MerchantItem.tenant_id == tenant_id, MerchantItem.account_id == account_id)
        .order_by(MerchantItem.offer_id)
    )
    wanted = set(keep)
    return [offer_id for offer_id in rows if offer_id not in wanted]


async def local_at_closed_stores(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str, open_stores: Collection[str]
) -> list[tuple[str, str]]:
    """(offer id, store code) sent to stores that are no longer open and linked."""
    query = select(MerchantLocalInventory.offer_id, MerchantLocalInventory.store_code).where(
        MerchantLocalInventory.tenant_id == tenant_id,
        MerchantLocalInventory.account_id == account_id,
    )
    if open_stores:
        query = query.where(and_(MerchantLocalInventory.store_code.not_in(list(open_stores))))
    rows = await session.execute(query.order_by(MerchantLocalInventory.store_code))
    return [(offer_id, store_code) for offer_id, store_code in rows]


async def local_inventory_counts(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, int]:
    """Store code → products whose local inventory Merchant Center has from Mercato."""
    rows = await session.execute(
        select(
            MerchantLocalInventory.store_code,
            func.count(func.distinct(MerchantLocalInventory.offer_id)),
        )
        .where(MerchantLocalInventory.tenant_id == tenant_id)
        .group_by(MerchantLocalInventory.store_code)
        .order_by(MerchantLocalInventory.store_code)
    )
    return {str(store): int(count) for store, count in rows}
