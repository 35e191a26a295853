"""Google's verdict on each product: read back from the Merchant API and kept per item.

`products.list` returns every processed product of an account with its `productStatus`:
per reporting context (Shopping ads, free listings, local inventory ads …) the countries
where it is approved, pending or disapproved, and its item-level issues (code, severity,
resolution, attribute, reporting context, applicable countries, Google's description).
Only products of the tenant's data source, language and feed label are kept. An item is
`disapproved` when a destination disapproves it anywhere or an issue disapproves it,
`pending` while a destination still reviews it, else `approved`. An item Mercato pushed
that Google does not list yet is `pending`.

Each known issue code comes with the fix the merchant should make (`FIXES`); for any other
code the dashboard shows Google's own description, which is data about the item.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import get_database
from mercato.kernel.jobs import defer
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.modules.channels.feeds.merchant_api import MerchantApiClient, MerchantTarget
from mercato.modules.channels.feeds.schemas import FeedItemIssueRead, FeedItemRead
from mercato.modules.channels.models import MerchantItem

STATUSES: Final = ("approved", "pending", "disapproved")
STATUS_TASK: Final = "channels.read_tenant_item_statuses"

FIXES: Final = {
    "image_link_broken": "Google could not fetch the image: check that the product's image "
    "URL is public and answers with the image.",
    "image_link_generic": "The image is a placeholder or logo: upload a photo of the product.",
    "image_link_unwanted_overlays": "Remove text, watermarks or borders from the main image.",
    "landing_page_error": "The product page could not be opened: check the product link "
    "answers 200 for Google's crawler and is not behind a login.",
    "mobile_landing_page_error": "The product page fails on mobile: make the link work on phones.",
    "url_does_not_match_homepage": "The product link must be on the website verified in "
    "Merchant Center: set the business profile's website or fix the link.",
    "item_duplicate_by_gtin": "Another product has the same GTIN: give each variant its own "
    "GTIN or merge the duplicates.",
    "identifier_exists_false_misuse": "The product has a GTIN: add it instead of saying it "
    "has no identifiers.",
    "missing_shipping": "Set up shipping for this country in Merchant Center.",
}


def fix_for(code: str) -> str | None:
    """What the merchant should do about issue `code`, when Mercato knows."""
    return FIXES.get(code)


def item_status(product: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """A listed `Product`'s status and its issues in Mercato's shape."""
    status_block = product.get("productStatus") or {}
    issues = [
        {
            "code": str(issue.get("code") or ""),
            "severity": str(issue.get("severity") or "SEVERITY_UNSPECIFIED").lower(),
            "attribute": issue.get("attribute") or None,
            "countries": list(issue.get("applicableCountries") or []),
            "reporting_context": issue.get("reportingContext") or None,
            "resolution": issue.get("resolution") or None,
            "description": issue.get("description") or None,
            "documentation": issue.get("documentation") or None,
        }
        for issue in status_block.get("itemLevelIssues") or []
    ]
    destinations = status_block.get("destinationStatuses") or []
    if any(d.get("disapprovedCountries") for d in destinations) or any(
        issue["severity"] == "disapproved" for issue in issues
    ):
        return "disapproved", issues
    if any(d.get("pendingCountries") for d in destinations):
        return "pending", issues
    if any(d.get("approvedCountries") for d in destinations):
        return "approved", issues
    return "pending", issues


async def read_statuses(
    tenant_id: uuid.UUID, client: MerchantApiClient, target: MerchantTarget
) -> int:
    """Store Google's status of every product of `target`; returns how many were listed.

    Raises `MerchantApiError` when a page cannot be read (nothing is stored then).
    """
    source = f"accounts/{target.account_id}/dataSources/{target.data_source_id}"
    rows = [row async for row in _ours(client.list_products(target), target, source)]
    now = datetime.now(UTC)
    async with get_database().tenant_session(tenant_id) as session:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            statement = insert(MerchantItem).values(
                [
                    {
                        "tenant_id": tenant_id,
                        "account_id": target.account_id,
                        "offer_id": offer_id,
                        "status": status,
                        "issues": issues,
                        "checked_at": now,
                    }
                    for offer_id, status, issues in chunk
                ]
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[
                        MerchantItem.tenant_id,
                        MerchantItem.account_id,
                        MerchantItem.offer_id,
                    ],
                    set_={
                        "status": statement.excluded.status,
                        "issues": statement.excluded.issues,
                        "checked_at": now,
                    },
                )
            )
        # Pushed, but not (or no longer) processed by Google: still pending.
        await session.execute(
            update(MerchantItem)
            .where(
                MerchantItem.tenant_id == tenant_id,
                MerchantItem.account_id == target.account_id,
                or_(MerchantItem.checked_at.is_(None), MerchantItem.checked_at < now),
            )
            .values(status="pending", issues=[], checked_at=now)
        )
    return len(rows)


async def _ours(
    products: AsyncIterator[dict[str, Any]], target: MerchantTarget, source: str
) -> AsyncIterator[tuple[str, str, list[dict[str, Any]]]]:
    async for product in products:
        if (
            product.get("contentLanguage") == target.content_language
            and product.get("feedLabel") == target.feed_label
            and product.get("dataSource", source) == source
            and product.get("offerId")
        ):
            status, issues = item_status(product)
            yield str(product["offerId"]), status, issues


async def list_items(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    status: str | None,
    account_id: str | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[MerchantItem], str | None]:
    """Items by (product id, account), cursor-paginated, optionally of one status."""
    size = clamp_limit(limit)
    query = (
        select(MerchantItem)
        .where(MerchantItem.tenant_id == tenant_id)
        .order_by(MerchantItem.offer_id, MerchantItem.account_id)
    )
    if status is not None:
        query = query.where(MerchantItem.status == status)
    if account_id is not None:
        query = query.where(MerchantItem.account_id == account_id)
    position = read_cursor(cursor, lambda c: (str(c["p"]), str(c["a"])))
    if position is not None:
        offer_id, account = position
        query = query.where(
            or_(
                MerchantItem.offer_id > offer_id,
                and_(MerchantItem.offer_id == offer_id, MerchantItem.account_id > account),
            )
        )
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = (
        encode_cursor({"p": rows[size - 1].offer_id, "a": rows[size - 1].account_id})
        if len(rows) > size
        else None
    )
    return rows[:size], next_cursor


def to_read(item: MerchantItem) -> FeedItemRead:
    return FeedItemRead(
        product_id=item.offer_id,
        account_id=item.account_id,
        status=item.status or "pending",
        issues=[
            FeedItemIssueRead(**issue, fix=fix_for(str(issue.get("code", ""))))
            for issue in item.issues or []
        ],
        checked_at=item.checked_at,
        pushed_at=item.pushed_at,
        push_error=item.push_error,
    )


async def queue_status_read(session: AsyncSession, tenant_id: uuid.UUID, delay_s: float) -> None:
    """Read the tenant's item statuses `delay_s` from now, besides the hourly read."""
    await defer(session, STATUS_TASK, delay_s=delay_s, tenant_id=str(tenant_id))


async def status_counts(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, int]:
    """How many items are approved, pending and disapproved (over every account)."""
    rows = await session.execute(
        select(MerchantItem.status, func.count())
        .where(MerchantItem.tenant_id == tenant_id, MerchantItem.status.is_not(None))
        .group_by(MerchantItem.status)
    )
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({str(status): int(count) for status, count in rows})
    return counts
