"""Shapes of `{T}/discounts/{code}`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"


class DiscountWrite(BaseModel):
    kind: Literal["percentage", "fixed"]
    value: Decimal = Field(
        gt=0, max_digits=12, decimal_places=2, description="Percent off (≤ 100) or an amount"
    )
    currency: str | None = Field(
        default=None,
        pattern=CURRENCY_PATTERN,
        description="Required for `fixed`; for `percentage` it limits the code to that currency",
    )
    min_order: Decimal | None = Field(
        default=None, ge=0, max_digits=12, decimal_places=2, description="Cart subtotal at least"
    )
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    usage_limit: int | None = Field(default=None, ge=1, le=10_000_000, strict=True)
    per_customer_limit: int | None = Field(default=None, ge=1, le=10_000, strict=True)
    active: bool = Field(default=True, strict=True, description="false deactivates the code")

    @model_validator(mode="after")
    def _consistent(self) -> DiscountWrite:
        if self.kind == "percentage" and self.value > 100:
            raise ValueError("A percentage discount takes at most 100 %")
        if self.kind == "fixed" and self.currency is None:
            raise ValueError("A fixed discount needs its currency")
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("starts_at must come before ends_at")
        return self


class DiscountRead(BaseModel):
    code: str
    kind: str
    value: Decimal
    currency: str | None
    min_order: Decimal | None
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    per_customer_limit: int | None
    times_used: int
    active: bool
    created_at: datetime
    updated_at: datetime


class DiscountApply(BaseModel):
    code: str = Field(pattern=CODE_PATTERN, description="Any case")
