"""Shapes of the customers API: shopper sign-up, login, profile; staff listing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, EmailStr, Field


class Address(BaseModel):
    label: str | None = Field(default=None, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    phone: str | None = Field(default=None, max_length=40)


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
