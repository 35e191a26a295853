"""Shapes of checkout and orders (`POST {T}/checkout`, `{T}/orders/{id}` and transitions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    field_validator,
)

from mercato.modules.customers import AddressRead, PostalAddress
from mercato.modules.discounts import CODE_PATTERN
from mercato.modules.payments import HostedCheckout, PaymentRead, RefundRead

OrderStatus = Literal[
    "pending",
    "paid",
    "partially_fulfilled",
    "fulfilled",
    "completed",
    "cancelled",
    "refunded",
    "partially_refunded",
]
ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)


class CheckoutCreate(BaseModel):
    cart_id: uuid.UUID
    email: EmailStr
    payment_provider: Literal["manual", "stripe"]
    user_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The tracking user id"
    )
    hosted_checkout: HostedCheckout | None = Field(
        default=None, description="Stripe only: pay on a Stripe Checkout page"
    )
    shipping_address: PostalAddress | None = Field(
        default=None, description="Else the cart's, else the customer's default"
    )
    billing_address: PostalAddress | None = Field(
        default=None, description="Else the cart's, else the customer's default, else shipping"
    )
    discount_code: str | None = Field(
        default=None, pattern=CODE_PATTERN, description="Instead of the cart's code, any case"
    )


class OrderItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: str
    location_code: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal = Field(description="unit_price * quantity, before the discount")
    discount: Decimal = Field(description="This row's share of the order's discount")


class OrderHistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    created_at: datetime


class OrderSummary(BaseModel):
    id: uuid.UUID
    status: str
    total: Decimal
    currency: str
    subtotal: Decimal = Field(description="The lines before the discount")
    discount_code: str | None
    discount_total: Decimal
    tax: Decimal
    shipping: Decimal
    refunded_amount: Decimal
    shipping_address: AddressRead | None
    billing_address: AddressRead | None
    email: str
    customer_id: uuid.UUID | None
    cart_id: uuid.UUID | None
    payment_provider: str
    stock_state: str
    reserved_until: datetime | None
    created_at: datetime
    updated_at: datetime


class ShipmentLineWrite(BaseModel):
    product_id: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=1, le=10_000, strict=True)


def each_product_once(lines: list[Any]) -> list[Any]:
    """Shipment and return lines name each product once (422 otherwise)."""
    products = [line.product_id for line in lines]
    if len(set(products)) != len(products):
        raise ValueError("List each product once")
    return lines


class ShipmentCreate(BaseModel):
    lines: list[ShipmentLineWrite] = Field(min_length=1, max_length=500)
    _once = field_validator("lines")(each_product_once)
    location_code: str = Field(min_length=1, max_length=64, description="Where the units leave")
    carrier: str | None = Field(default=None, min_length=1, max_length=100)
    tracking_number: str | None = Field(default=None, min_length=1, max_length=100)
    tracking_url: HttpUrl | None = None


class ShipmentLineRead(BaseModel):
    product_id: str
    quantity: int


class ShipmentRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    status: Literal["shipped", "delivered"]
    location_code: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    lines: list[ShipmentLineRead]
    shipped_at: datetime
    delivered_at: datetime | None


class DeliveryCreate(BaseModel):
    delivered_at: AwareDatetime | None = Field(default=None, description="Default: now")


class ReturnLineWrite(BaseModel):
    product_id: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=1, le=10_000, strict=True)
    restock: bool = Field(strict=True)
    location_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Where restocked units go; default: where the last shipment left from",
    )


class ReturnCreate(BaseModel):
    lines: list[ReturnLineWrite] = Field(min_length=1, max_length=500)
    _once = field_validator("lines")(each_product_once)
    reason: str = Field(min_length=1, max_length=500)


class ReturnLineRead(BaseModel):
    product_id: str
    quantity: int
    restock: bool
    location_code: str | None
    refund_amount: Decimal


class ReturnRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    reason: str
    refund_amount: Decimal
    currency: str
    lines: list[ReturnLineRead]
    refund: RefundRead | None = Field(description="Its refund: pending until the provider took it")
    created_at: datetime


class OrderRead(OrderSummary):
    items: list[OrderItemRead]
    history: list[OrderHistoryRead]
    payments: list[PaymentRead]
    refunds: list[RefundRead]
    allowed_transitions: list[str]
    shipments: list[ShipmentRead] = Field(default_factory=list)
    returns: list[ReturnRead] = Field(default_factory=list)


class CheckoutResult(BaseModel):
    order: OrderRead
    payment: PaymentRead


class TransitionCreate(BaseModel):
    to: OrderStatus
    note: str | None = Field(default=None, max_length=500)
    restock: bool = Field(
        default=False, description="Refunds and paid cancellations: restock", strict=True
    )


class RestockLine(BaseModel):
    product_id: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=1, le=10_000, strict=True)


class RefundCreate(BaseModel):
    amount: Decimal | None = Field(
        default=None, gt=0, max_digits=12, decimal_places=2, description="Omit for the rest"
    )
    reason: str | None = Field(default=None, max_length=500)
    restock: bool = Field(default=False, strict=True)
    restock_items: list[RestockLine] | None = Field(
        default=None, max_length=500, description="Which units go back; omit for all"
    )
