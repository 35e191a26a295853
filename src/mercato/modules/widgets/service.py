"""Widget configurations per placement, read through a short Redis cache.

The SDK reads a placement's configuration on every page view, so reads go to Redis first
(`widget_cache_ttl_s`, 60 s by default); a PUT deletes the cached copy once committed, so
the merchant sees the change on the next page view. A placement never configured answers
the defaults.
"""

from __future__ import annotations

import uuid

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.widgets.models import WidgetConfig
from mercato.modules.widgets.schemas import WidgetRead, WidgetWrite
from mercato.settings import get_settings

log = get_logger("mercato.widgets")


def cache_key(tenant_id: uuid.UUID, placement: str) -> str:
    return tenant_key(tenant_id, "widget", placement)


def to_read(config: WidgetConfig) -> WidgetRead:
    return WidgetRead(
        placement=config.placement,
        configured=True,
        updated_at=config.updated_at,
        title=config.title,
        layout=config.layout,
        columns=config.columns,
        max_items=config.max_items,
        show_price=config.show_price,
        cta_text=config.cta_text,
        product_url=config.product_url,
        theme=config.theme,
    )


def defaults(placement: str) -> WidgetRead:
    return WidgetRead(placement=placement, configured=False, **WidgetWrite().model_dump())


async def put_widget(
    session: AsyncSession, tenant_id: uuid.UUID, placement: str, body: WidgetWrite
) -> tuple[WidgetRead, WidgetRead | None]:
    """Create or replace a placement's widget; returns it and what it was before."""
    config = await session.get(WidgetConfig, (tenant_id, placement), with_for_update=True)
    before = to_read(config) if config is not None else None
    if config is None:
        config = WidgetConfig(tenant_id=tenant_id, placement=placement)
        session.add(config)
    config.title = body.title
    config.layout = body.layout
    config.columns = body.columns
    config.max_items = body.max_items
    config.show_price = body.show_price
    config.cta_text = body.cta_text
    config.product_url = body.product_url
    config.theme = body.theme.model_dump()
    await session.flush()
    await session.refresh(config)
    _forget_after_commit(session, tenant_id, placement)
    return to_read(config), before


def _forget_after_commit(session: AsyncSession, tenant_id: uuid.UUID, placement: str) -> None:
    async def forget_cached() -> None:
        try:
            await get_redis().delete(cache_key(tenant_id, placement))
        except RedisError:
            log.warning("widget_cache_invalidation_failed", placement=placement)

    after_commit(session, forget_cached)


async def list_widgets(session: AsyncSession, tenant_id: uuid.UUID) -> list[WidgetRead]:
    """The configured placements, by name (a tenant has a handful; no pagination)."""
    rows = await session.scalars(
        select(WidgetConfig)
        .where(WidgetConfig.tenant_id == tenant_id)
        .order_by(WidgetConfig.placement)
    )
    return [to_read(row) for row in rows]


async def delete_widget(
    session: AsyncSession, principal: TenantPrincipal, placement: str, meta: RequestMeta
) -> None:
    """Remove a placement's configuration, audited (it answers the defaults again).

    404 when the placement was never configured.
    """
    tenant_id = principal.tenant_id
    config = await session.get(WidgetConfig, (tenant_id, placement), with_for_update=True)
    if config is None:
        raise NotFound(f"No widget is configured for {placement!r}")
    before = to_read(config).model_dump(mode="json", exclude={"updated_at"})
    await session.delete(config)
    await session.flush()
    _forget_after_commit(session, tenant_id, placement)
    await record_audit(
        session,
        actor=principal,
        action="widget.deleted",
        target=f"widget:{placement}",
        changes=field_changes(before, {}),
        meta=meta,
    )


async def get_widget(session: AsyncSession, tenant_id: uuid.UUID, placement: str) -> WidgetRead:
    """A placement's widget (the defaults when never configured), cached briefly."""
    key = cache_key(tenant_id, placement)
    try:
        cached = await get_redis().get(key)
    except RedisError:
        cached = None
    if cached is not None:
        return WidgetRead.model_validate_json(cached)
    config = await session.get(WidgetConfig, (tenant_id, placement))
    widget = to_read(config) if config is not None else defaults(placement)
    try:
        await get_redis().set(
            key, widget.model_dump_json().encode(), ex=get_settings().widget_cache_ttl_s
        )
    except RedisError:
        log.warning("widget_cache_unavailable")
    return widget
