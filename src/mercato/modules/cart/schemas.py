"""Shapes of the carts API (`POST {T}/carts`, `POST {T}/carts/{cart_id}/items`) and the
tax and shipping tables."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel, Field

from mercato.modules.customers import AddressRead, PostalAddress
from mercato.modules.locations import CODE_PATTERN

MAX_QUANTITY = 10_000
CURRENCY_PATTERN = r"^[A-Z]{3}$"


class CartCreate(BaseModel):
    customer_id: uuid.UUID | None = None
    location_code: str | None = Field(
        default=None, pattern=CODE_PATTERN, description="Pickup store: stock and tax from there"
    )


class CartItemAdd(BaseModel):
    product_id: str = Field(min_length=1, max_length=128)
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY, strict=True)


class CartItemSet(BaseModel):
    quantity: int = Field(ge=0, le=MAX_QUANTITY, strict=True, description="0 removes the line")


class CartLine(BaseModel):
    product_id: str
    name: str
    image_url: str | None
    unit_price: Decimal
    quantity: int
    line_total: Decimal = Field(description="unit_price * quantity, before the discount")
    available: bool
    discount: Decimal = Field(description="What the cart's discount code takes off this line")


class CartRead(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID | None
    location_code: str | None
    status: str
    currency: str | None
    items: list[CartLine]
    subtotal: Decimal = Field(description="The lines before the discount")
    discount_code: str | None
    discount_total: Decimal = Field(description="The lines' discounts added up")
    discount_reason: str | None = Field(
        description="Why the applied code takes nothing off now (None when it applies)"
    )
    tax_rate: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal = Field(description="subtotal - discount_total + tax + shipping")
    shipping_address: AddressRead | None
    billing_address: AddressRead | None


class CartAddresses(BaseModel):
    """Both addresses of a cart, replaced together (null clears one)."""

    shipping_address: PostalAddress | None = None
    billing_address: PostalAddress | None = None


class TaxRateWrite(BaseModel):
    rate: Decimal = Field(ge=0, lt=1, max_digits=6, decimal_places=5, description="0.19 = 19 %")


class TaxRateRead(BaseModel):
    scope: str
    rate: Decimal


class ShippingRateWrite(BaseModel):
    flat_amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    free_over: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)


class ShippingRateRead(BaseModel):
    currency: str
    flat_amount: Decimal
    free_over: Decimal | None


class PricingTables(BaseModel):
    tax_rates: list[TaxRateRead]
    shipping_rates: list[ShippingRateRead]
