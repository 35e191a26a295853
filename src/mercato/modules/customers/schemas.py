"""Shapes of the customers API: shopper sign-up, login, profile; staff listing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, EmailStr, Field, model_validator

from mercato.modules.customers.addresses import Address


class CustomerSignup(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    name: str | None = Field(default=None, max_length=200)
    marketing_consent: bool = Field(default=False, strict=True)
    cart_id: uuid.UUID | None = Field(default=None, description="A guest cart to take along")


class CustomerLogin(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    cart_id: uuid.UUID | None = Field(default=None, description="A guest cart to merge")


class CustomerUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    marketing_consent: bool | None = Field(default=None, strict=True)
    preferences: dict[str, Any] | None = Field(default=None, max_length=50)
    addresses: list[Address] | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _one_default_each(self) -> CustomerUpdate:
        for flag in ("default_shipping", "default_billing"):
            if sum(getattr(a, flag) for a in self.addresses or []) > 1:
                raise ValueError(f"At most one address may be {flag}")
        return self


class CustomerRead(BaseModel):
    id: uuid.UUID
    email: str
    name: str | None
    marketing_consent: bool
    consent_changed_at: datetime | None
    preferences: dict[str, Any]
    addresses: list[dict[str, Any]]
    created_at: datetime


class CustomerSession(BaseModel):
    """A shopper's login: send `token` as `X-Customer-Token` beside the storefront key."""

    token: str
    token_type: str = "customer"  # noqa: S105 - a token kind
    expires_at: datetime
    customer: CustomerRead
    cart_id: uuid.UUID | None = None
