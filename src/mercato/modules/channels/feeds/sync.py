"""Bring one Merchant Center account in line with a set of products: what the live sync
and the daily reconciliation both run, a chunk of product ids at a time.

For each product id: a live product without blocking precheck issues is inserted (an
upsert at Google) unless the account already holds the same input, recently pushed; a
product deleted in Mercato, or one that left the feed's scope (a blocking issue now), is
removed with `productInputs.delete`. Then each in-scope product's stock at every linked
store is sent as a local inventory when it changed, and local inventories of a store the
product no longer has stock rows at are deleted. Outcomes are recorded in
`merchant_items`; quota answers (429 with a long `Retry-After`) are returned, not slept.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from mercato.kernel.db import get_database
from mercato.modules.channels.feeds import merchant_items as ledger
from mercato.modules.channels.feeds.item import FeedItem
from mercato.modules.channels.feeds.local_inventory import local_inventory
from mercato.modules.channels.feeds.merchant_api import (
    MerchantApiClient,
    MerchantTarget,
    PushOutcome,
    product_input,
)
from mercato.modules.channels.feeds.precheck import blocks_item, check_item
from mercato.modules.channels.feeds.source import feed_items
from mercato.modules.inventory import available_by_location

Call = Callable[[], Awaitable[PushOutcome]]


@dataclass
class SyncResult:
    """Calls made per kind, and the longest `Retry-After` Google asked for (None: no quota
    trouble)."""

    inserted: int = 0
    deleted: int = 0
    failed: int = 0
    local_inserted: int = 0
    local_deleted: int = 0
    retry_after: float | None = None
    errors: list[str] = field(default_factory=list)

    def add(self, other: SyncResult) -> None:
        self.inserted += other.inserted
        self.deleted += other.deleted
        self.failed += other.failed
        self.local_inserted += other.local_inserted
        self.local_deleted += other.local_deleted
        self.errors += other.errors
        if other.retry_after is not None:
            self.retry_after = max(self.retry_after or 0.0, other.retry_after)


@dataclass
class _Plan:
    inserts: list[tuple[FeedItem, str]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    local_inserts: list[tuple[str, str, dict[str, object], str]] = field(default_factory=list)
    local_deletes: list[tuple[str, str]] = field(default_factory=list)


async def _plan(
    tenant_id: uuid.UUID,
    target: MerchantTarget,
    product_ids: Sequence[str],
    known_categories: Collection[int] | None,
    stores: dict[str, str],
    *,
    products: bool,
) -> _Plan:
    plan = _Plan()
    account = target.account_id
    async with get_database().tenant_session(tenant_id) as reader:
        in_scope: dict[str, FeedItem] = {}
        async for item in feed_items(reader, tenant_id, product_ids=product_ids):
            if not blocks_item(check_item(item, known_categories)):
                in_scope[item.product_id] = item
        held = await ledger.held_items(reader, tenant_id, account, product_ids)
        stock = await available_by_location(reader, tenant_id, sorted(in_scope))
        held_local = await ledger.held_local(reader, tenant_id, account, sorted(in_scope))
    if products:
        for offer_id, item in in_scope.items():
            digest = ledger.content_hash(product_input(item, target))
            row = held.get(offer_id)
            if row is None or not ledger.is_current(row.content_hash, row.pushed_at, digest):
                plan.inserts.append((item, digest))
        plan.deletes = [offer_id for offer_id in product_ids if offer_id in held.keys() - in_scope]
    wanted: set[tuple[str, str]] = set()
    for offer_id, item in in_scope.items():
        for location_code, store_code in stores.items():
            available = stock.get((offer_id, location_code))
            if available is None:
                continue
            wanted.add((offer_id, store_code))
            body = local_inventory(item, target, store_code, available)
            digest = ledger.content_hash(body)
            sent = held_local.get((offer_id, store_code))
            if sent is None or not ledger.is_current(sent.content_hash, sent.pushed_at, digest):
                plan.local_inserts.append((offer_id, store_code, body, digest))
    plan.local_deletes = sorted(held_local.keys() - wanted)
    return plan


async def sync_products(
    tenant_id: uuid.UUID,
    client: MerchantApiClient,
    target: MerchantTarget,
    product_ids: Sequence[str],
    *,
    known_categories: Collection[int] | None,
    stores: dict[str, str],
    products: bool = True,
) -> SyncResult:
    """Sync `product_ids` to `target` (with `products=False`, their local inventories only)."""
    plan = await _plan(tenant_id, target, product_ids, known_categories, stores, products=products)
    result = SyncResult()
    inserted = await client.run(
        [_bind(client.insert_product_input, target, item) for item, _ in plan.inserts]
    )
    deleted = await client.run(
        [_bind(client.delete_product_input, target, offer) for offer in plan.deletes]
    )
    local_sent = await client.run(
        [
            _bind(client.insert_local_inventory, target, offer, body)
            for offer, _, body, _ in plan.local_inserts
        ]
    )
    local_gone = await client.run(
        [
            _bind(client.delete_local_inventory, target, offer, store)
            for offer, store in plan.local_deletes
        ]
    )
    for outcome in (*inserted, *deleted, *local_sent, *local_gone):
        _count_quota(result, outcome)
    pushed = [
        (item.product_id, digest, None if outcome.ok else outcome.error)
        for (item, digest), outcome in zip(plan.inserts, inserted, strict=True)
        if outcome.ok or outcome.retry_after is None
    ]
    gone = [offer for offer, outcome in zip(plan.deletes, deleted, strict=True) if outcome.ok]
    local_pushed = [
        (offer, store, digest)
        for (offer, store, _, digest), outcome in zip(plan.local_inserts, local_sent, strict=True)
        if outcome.ok
    ]
    local_removed = [
        pair for pair, outcome in zip(plan.local_deletes, local_gone, strict=True) if outcome.ok
    ]
    async with get_database().tenant_session(tenant_id) as session:
        await ledger.record_pushed(session, tenant_id, target.account_id, pushed)
        await ledger.forget_items(session, tenant_id, target.account_id, gone)
        await ledger.record_local(
            session, tenant_id, target.account_id, local_pushed, local_removed
        )
    result.inserted = sum(1 for outcome in inserted if outcome.ok)
    result.deleted = len(gone)
    result.local_inserted = len(local_pushed)
    result.local_deleted = len(local_removed)
    return result


async def remove_stale(
    tenant_id: uuid.UUID,
    client: MerchantApiClient,
    target: MerchantTarget,
    *,
    keep: Collection[str],
) -> SyncResult:
    """The daily reconciliation's cleanup: delete from the account every product Mercato no
    longer offers (held there, but not in `keep`)."""
    async with get_database().tenant_session(tenant_id) as reader:
        stale = await ledger.offers_not_in(reader, tenant_id, target.account_id, keep)
    deleted = await client.run(
        [_bind(client.delete_product_input, target, offer) for offer in stale]
    )
    gone = [offer for offer, outcome in zip(stale, deleted, strict=True) if outcome.ok]
    async with get_database().tenant_session(tenant_id) as session:
        await ledger.forget_items(session, tenant_id, target.account_id, gone)
    result = SyncResult(deleted=len(gone))
    for outcome in deleted:
        _count_quota(result, outcome)
    return result


async def close_stores(
    tenant_id: uuid.UUID, client: MerchantApiClient, target: MerchantTarget, stores: dict[str, str]
) -> SyncResult:
    """A store that closed (archived, or no longer linked to its GBP store code) stops
    advertising: every local inventory sent to it is deleted."""
    async with get_database().tenant_session(tenant_id) as reader:
        closed = await ledger.local_at_closed_stores(
            reader, tenant_id, target.account_id, set(stores.values())
        )
    outcomes = await client.run(
        [_bind(client.delete_local_inventory, target, offer, store) for offer, store in closed]
    )
    removed = [pair for pair, outcome in zip(closed, outcomes, strict=True) if outcome.ok]
    async with get_database().tenant_session(tenant_id) as session:
        await ledger.record_local(session, tenant_id, target.account_id, [], removed)
    result = SyncResult(local_deleted=len(removed))
    for outcome in outcomes:
        _count_quota(result, outcome)
    return result


def _count_quota(result: SyncResult, outcome: PushOutcome) -> None:
    if outcome.ok:
        return
    result.failed += 1
    if outcome.retry_after is not None:
        result.retry_after = max(result.retry_after or 0.0, outcome.retry_after)
    elif outcome.error:
        result.errors.append(f"{outcome.product_id}: {outcome.error}")


def _bind(method: Callable[..., Awaitable[PushOutcome]], *args: object) -> Call:
    async def call() -> PushOutcome:
        return await method(*args)

    return call
