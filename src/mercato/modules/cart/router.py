"""`{T}/carts`: a shopper's cart (guest or customer), and the tax/shipping tables."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from mercato.kernel.deps import DbSession
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.cart import checkout_info, rates, service
from mercato.modules.cart.schemas import (
    CURRENCY_PATTERN,
    CartAddresses,
    CartCreate,
    CartItemAdd,
    CartItemSet,
    CartRead,
    PricingTables,
    ShippingRateRead,
    ShippingRateWrite,
    TaxRateRead,
    TaxRateWrite,
)
from mercato.modules.customers import CustomerToken, get_customer, resolve_customer
from mercato.modules.discounts import DiscountApply
from mercato.modules.identity import require
from mercato.modules.locations import CODE_PATTERN

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["carts"])
Shopper = Annotated[TenantPrincipal, require(Permission.CHECKOUT_WRITE)]
ProductId = Annotated[str, Path(min_length=1, max_length=128)]
TaxScope = Annotated[str, Path(pattern=rf"^\*$|{CODE_PATTERN}", description="location or *")]
Currency = Annotated[str, Path(pattern=CURRENCY_PATTERN)]


async def _customer_id(session: DbSession, token: str | None) -> uuid.UUID | None:
    customer = await resolve_customer(session, token)
    return None if customer is None else customer.id


@router.post("/carts", status_code=status.HTTP_201_CREATED, response_model=CartRead)
async def create_cart(
    body: CartCreate, principal: Shopper, session: DbSession, token: CustomerToken = None
) -> CartRead:
    """A new cart; with the shopper's token it is theirs, else a guest cart."""
    customer_id = await _customer_id(session, token)
    if body.customer_id is not None and body.customer_id != customer_id:
        customer_id = (await get_customer(session, principal, body.customer_id)).id
    return await service.create_cart(session, principal, body, customer_id)


@router.get("/carts/{cart_id}", response_model=CartRead)
async def get_cart(
    cart_id: uuid.UUID, principal: Shopper, session: DbSession, token: CustomerToken = None
) -> CartRead:
    return await service.get_cart(session, principal, cart_id, await _customer_id(session, token))


@router.post("/carts/{cart_id}/items", response_model=CartRead)
async def add_cart_item(
    cart_id: uuid.UUID,
    body: CartItemAdd,
    principal: Shopper,
    session: DbSession,
    token: CustomerToken = None,
) -> CartRead:
    """Add units of a product (quantities of the same product add up)."""
    customer_id = await _customer_id(session, token)
    return await service.add_item(
        session, principal, cart_id, body.product_id, body.quantity, customer_id
    )


@router.put("/carts/{cart_id}/items/{product_id}", response_model=CartRead)
async def set_cart_item(
    cart_id: uuid.UUID,
    product_id: ProductId,
    body: CartItemSet,
    principal: Shopper,
    session: DbSession,
    token: CustomerToken = None,
) -> CartRead:
    """Set a line's quantity (0 removes it)."""
    customer_id = await _customer_id(session, token)
    return await service.add_item(
        session, principal, cart_id, product_id, body.quantity, customer_id, replace=True
    )


@router.delete("/carts/{cart_id}/items/{product_id}", response_model=CartRead)
async def remove_cart_item(
    cart_id: uuid.UUID,
    product_id: ProductId,
    principal: Shopper,
    session: DbSession,
    token: CustomerToken = None,
) -> CartRead:
    customer_id = await _customer_id(session, token)
    return await service.add_item(
        session, principal, cart_id, product_id, 0, customer_id, replace=True
    )


@router.put("/carts/{cart_id}/addresses", response_model=CartRead)
async def set_cart_addresses(
    cart_id: uuid.UUID,
    body: CartAddresses,
    principal: Shopper,
    session: DbSession,
    token: CustomerToken = None,
) -> CartRead:
    """Set the shipping and billing addresses (both replaced; checkout copies them)."""
    customer_id = await _customer_id(session, token)
    return await checkout_info.set_addresses(session, principal, cart_id, body, customer_id)


@router.put("/carts/{cart_id}/discount", response_model=CartRead)
async def apply_cart_discount(
    cart_id: uuid.UUID,
    body: DiscountApply,
    principal: Shopper,
    session: DbSession,
    token: CustomerToken = None,
) -> CartRead:
    """Apply a discount code; 409 `discount-not-applicable` / `discount-exhausted` when it
    does not apply now, 422 `unknown-discount-code`."""
    customer_id = await _customer_id(session, token)
    return await checkout_info.apply_discount(session, principal, cart_id, body.code, customer_id)


@router.delete("/carts/{cart_id}/discount", response_model=CartRead)
async def remove_cart_discount(
    cart_id: uuid.UUID, principal: Shopper, session: DbSession, token: CustomerToken = None
) -> CartRead:
    customer_id = await _customer_id(session, token)
    return await checkout_info.remove_discount(session, principal, cart_id, customer_id)


@router.get("/pricing-rules", response_model=PricingTables)
async def list_pricing_rules(
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_READ)], session: DbSession
) -> PricingTables:
    """Tax rates and shipping rules that price carts."""
    return await rates.list_rates(session, principal)


@router.put("/tax-rates/{scope}", response_model=TaxRateRead)
async def put_tax_rate(
    scope: TaxScope,
    body: TaxRateWrite,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
) -> TaxRateRead:
    return await rates.put_tax_rate(session, principal, scope, body.rate)


@router.delete("/tax-rates/{scope}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tax_rate(
    scope: TaxScope,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
) -> Response:
    await rates.delete_tax_rate(session, principal, scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/shipping-rates/{currency}", response_model=ShippingRateRead)
async def put_shipping_rate(
    currency: Currency,
    body: ShippingRateWrite,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
) -> ShippingRateRead:
    return await rates.put_shipping_rate(session, principal, currency, body)


@router.delete("/shipping-rates/{currency}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_shipping_rate(
    currency: Currency,
    principal: Annotated[TenantPrincipal, require(Permission.ORDERS_WRITE)],
    session: DbSession,
) -> Response:
    await rates.delete_shipping_rate(session, principal, currency)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
