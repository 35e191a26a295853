"""The tenant's tax rates (per location code, or `*` tenant-wide) and shipping rules."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import NotFound
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.cart.models import ShippingRate, TaxRate
from mercato.modules.cart.schemas import (
    PricingTables,
    ShippingRateRead,
    ShippingRateWrite,
    TaxRateRead,
)
from mercato.modules.cart.service import _forget_after_commit, pricing_key


async def list_rates(session: AsyncSession, principal: Principal) -> PricingTables:
    principal.require(Permission.ORDERS_READ)
    taxes = (await session.scalars(select(TaxRate).order_by(TaxRate.scope))).all()
    shipping = (await session.scalars(select(ShippingRate).order_by(ShippingRate.currency))).all()
    return PricingTables(
        tax_rates=[TaxRateRead(scope=t.scope, rate=t.rate) for t in taxes],
        shipping_rates=[
            ShippingRateRead(currency=s.currency, flat_amount=s.flat_amount, free_over=s.free_over)
            for s in shipping
        ],
    )


async def put_tax_rate(
    session: AsyncSession, principal: TenantPrincipal, scope: str, rate: Decimal
) -> TaxRateRead:
    """Set the rate of a location code, or of the whole tenant with scope `*`."""
    principal.require(Permission.ORDERS_WRITE)
    await session.execute(
        insert(TaxRate)
        .values(tenant_id=principal.tenant_id, scope=scope, rate=rate)
        .on_conflict_do_update(index_elements=["tenant_id", "scope"], set_={"rate": rate})
    )
    _forget_after_commit(session, pricing_key(principal.tenant_id))
    return TaxRateRead(scope=scope, rate=rate)


async def delete_tax_rate(session: AsyncSession, principal: TenantPrincipal, scope: str) -> None:
    principal.require(Permission.ORDERS_WRITE)
    result = await session.execute(delete(TaxRate).where(TaxRate.scope == scope))
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"No tax rate for {scope!r}")
    _forget_after_commit(session, pricing_key(principal.tenant_id))


async def put_shipping_rate(
    session: AsyncSession, principal: TenantPrincipal, currency: str, body: ShippingRateWrite
) -> ShippingRateRead:
    """Flat shipping in `currency`, free from `free_over` (if set)."""
    principal.require(Permission.ORDERS_WRITE)
    values = {"flat_amount": body.flat_amount, "free_over": body.free_over}
    await session.execute(
        insert(ShippingRate)
        .values(tenant_id=principal.tenant_id, currency=currency, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "currency"], set_=values)
    )
    _forget_after_commit(session, pricing_key(principal.tenant_id))
    return ShippingRateRead(currency=currency, **values)


async def delete_shipping_rate(
    session: AsyncSession, principal: TenantPrincipal, currency: str
) -> None:
    principal.require(Permission.ORDERS_WRITE)
    result = await session.execute(delete(ShippingRate).where(ShippingRate.currency == currency))
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"No shipping rule for {currency}")
    _forget_after_commit(session, pricing_key(principal.tenant_id))
