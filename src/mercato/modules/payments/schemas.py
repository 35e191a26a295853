"""Shapes of payments and refunds as the orders API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class HostedCheckout(BaseModel):
    """Ask for a Stripe Checkout page instead of a PaymentIntent for a custom form."""

    success_url: HttpUrl
    cancel_url: HttpUrl


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    provider: str
    status: str
    amount: Decimal
    refunded_amount: Decimal
    currency: str
    provider_reference: str | None
    client_secret: str | None = Field(description="For Stripe.js to confirm the PaymentIntent")
    checkout_url: str | None = Field(description="Stripe Checkout page, for hosted payment")
    error: str | None
    created_at: datetime


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    payment_id: uuid.UUID
    amount: Decimal
    provider_reference: str | None
    reason: str | None
    actor: str
    status: str = Field(description="pending until the provider accepted it, then succeeded")
    return_id: uuid.UUID | None = Field(description="The return this refund pays for")
    error: str | None = Field(description="Why the last attempt to send it failed")
    created_at: datetime
