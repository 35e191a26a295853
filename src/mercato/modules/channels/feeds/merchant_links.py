"""Merchant Center accounts a tenant pushes products to (`google_merchant_links`).

Each names the account, the API data source products are inserted under, and the
content language and feed label Google files them by. Tokens come from the tenant's one
Google link; a merchant link without it is configuration waiting for `oauth/link`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.events import interest_changed
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.channels.feeds.merchant_api import MerchantTarget
from mercato.modules.channels.feeds.schemas import MerchantLinkWrite
from mercato.modules.channels.models import GoogleMerchantLink


def target(link: GoogleMerchantLink) -> MerchantTarget:
    return MerchantTarget(
        account_id=link.account_id,
        data_source_id=link.data_source_id,
        content_language=link.content_language,
        feed_label=link.feed_label,
    )


def _snapshot(link: GoogleMerchantLink | None) -> dict[str, object]:
    if link is None:
        return {}
    return {
        "data_source_id": link.data_source_id,
        "content_language": link.content_language,
        "feed_label": link.feed_label,
        "daily_push": link.daily_push,
    }


async def put_merchant_link(
    session: AsyncSession,
    principal: TenantPrincipal,
    account_id: str,
    body: MerchantLinkWrite,
    meta: RequestMeta,
) -> tuple[GoogleMerchantLink, bool]:
    """Create or replace the link to Merchant Center account `account_id`."""
    link = await session.get(
        GoogleMerchantLink, (principal.tenant_id, account_id), with_for_update=True
    )
    before = _snapshot(link)
    created = link is None
    if link is None:
        link = GoogleMerchantLink(tenant_id=principal.tenant_id, account_id=account_id)
        session.add(link)
    link.data_source_id = body.data_source_id
    link.content_language = body.content_language
    link.feed_label = body.feed_label
    link.daily_push = body.daily_push
    await session.flush()
    if created:
        await interest_changed(session, principal.tenant_id)  # live sync starts now
    await session.refresh(link)
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="google.merchant_linked" if created else "google.merchant_link_updated",
        target=f"merchant:{account_id}",
        changes=field_changes(before, _snapshot(link)),
        meta=meta,
    )
    return link, created


async def list_merchant_links(session: AsyncSession) -> list[GoogleMerchantLink]:
    rows = await session.scalars(select(GoogleMerchantLink).order_by(GoogleMerchantLink.account_id))
    return list(rows.all())


async def get_merchant_link(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str
) -> GoogleMerchantLink:
    link = await session.get(GoogleMerchantLink, (tenant_id, account_id))
    if link is None:
        raise NotFound(f"No Merchant Center account {account_id!r} is linked")
    return link


async def choose_merchant_link(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: str | None
) -> GoogleMerchantLink:
    """The link a push goes to: the named one, or the only one when none is named."""
    if account_id is not None:
        return await get_merchant_link(session, tenant_id, account_id)
    links = await list_merchant_links(session)
    if len(links) == 1:
        return links[0]
    message = (
        "No Merchant Center account is linked: PUT {T}/google/merchant-links/{account_id} first"
        if not links
        else "Several Merchant Center accounts are linked: name one with account_id"
    )
    raise ValidationFailed(message, errors=[field_error("account_id", message, "required")])


async def delete_merchant_link(
    session: AsyncSession, principal: TenantPrincipal, account_id: str, meta: RequestMeta
) -> None:
    link = await get_merchant_link(session, principal.tenant_id, account_id)
    before = _snapshot(link)
    await session.delete(link)
    await session.flush()
    await interest_changed(session, principal.tenant_id)
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="google.merchant_unlinked",
        target=f"merchant:{account_id}",
        changes=field_changes(before, {}),
        meta=meta,
    )
