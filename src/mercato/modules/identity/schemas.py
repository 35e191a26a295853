"""Request and response shapes of the Auth and Tenants sections of API.md."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from mercato.kernel.formats import CurrencyCode, LocaleTag
from mercato.kernel.timezones import TimeZoneName
from mercato.modules.identity.permissions import Role

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class SignupRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=200)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    email_verified: bool = False


class SignupResponse(BaseModel):
    user: UserRead


class LoginRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int


class AccessTokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=200)


class StepUpRequest(BaseModel):
    password: str = Field(min_length=1, max_length=256)


class TokenRequest(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class AcceptInvitationRequest(BaseModel):
    """The mailed token; `name` and `password` when the address has no verified account."""

    token: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=1, max_length=256)


class InvitationAccepted(BaseModel):
    tenant_id: uuid.UUID
    role: Role
    user: UserRead


class ForgotPasswordRequest(BaseModel):
    email: EmailStr


class ResetPasswordRequest(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=256)


class MembershipRead(BaseModel):
    tenant_id: uuid.UUID
    role: Role
    tenant_name: str | None = None
    tenant_slug: str | None = None


class SessionResponse(BaseModel):
    user: UserRead
    memberships: list[MembershipRead]
    auth_time: datetime
    is_platform_admin: bool = False


class OidcLoginResponse(BaseModel):
    authorization_url: str


class OidcCallbackRequest(BaseModel):
    code: str = Field(min_length=1, max_length=2000)
    state: str = Field(min_length=1, max_length=200)


def _check_slug(value: str | None) -> str | None:
    if value is not None and not SLUG.match(value):
        raise ValueError("use 1 to 63 lowercase letters, digits and inner hyphens")
    return value


class TenantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = None

    _slug = field_validator("slug")(_check_slug)


class TenantSettings(BaseModel):
    """Per-tenant preferences other modules read (all optional)."""

    model_config = ConfigDict(extra="forbid")

    timezone: TimeZoneName | None = None
    currency: CurrencyCode | None = Field(
        default=None,
        description="ISO 4217 code amounts are shown in (default EUR)",
        examples=["EUR"],
    )
    locale: LocaleTag | None = Field(
        default=None,
        description="BCP 47 locale CLDR knows, for amounts, numbers and dates (default en-US)",
        examples=["de-DE"],
    )
    event_retention_days: int | None = Field(default=None, ge=30, le=3650, strict=True)
    satisfaction_alert_below: float | None = Field(
        default=None,
        ge=1,
        le=5,
        strict=True,
        description="Notify when the last 7 days' average feedback rating is under this.",
    )


class TenantUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = None
    settings: TenantSettings | None = None

    _slug = field_validator("slug")(_check_slug)


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    status: str
    settings: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    role: Role | None = None


class TenantList(BaseModel):
    data: list[TenantRead]


class MemberCreate(BaseModel):
    email: EmailStr
    role: Role


class MemberUpdate(BaseModel):
    role: Role


class MemberRead(BaseModel):
    user_id: uuid.UUID | None
    email: str
    name: str | None
    role: Role
    status: Literal["active", "invited"]
    created_at: datetime


class MemberList(BaseModel):
    data: list[MemberRead]


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["secret", "publishable"]
    permission: Literal["read", "read_write"]
    mode: Literal["live", "test"] = "live"
    allowed_origins: list[str] | None = Field(default=None, max_length=50)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        for origin in value or []:
            if not re.match(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$", origin):
                raise ValueError(f"{origin!r} is not an origin like https://shop.example")
        return value


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    kind: str
    permission: str
    mode: str
    allowed_origins: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str


class ApiKeyList(BaseModel):
    data: list[ApiKeyRead]
