"""Shapes of the inventory API (`PUT {T}/inventory/{product_id}/{location_code}`: `on_hand`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

MAX_UNITS = 100_000_000


class StockWrite(BaseModel):
    on_hand: int = Field(ge=0, le=MAX_UNITS, strict=True)
    low_stock_threshold: int | None = Field(default=None, ge=0, le=MAX_UNITS, strict=True)
    note: str | None = Field(default=None, max_length=500)


class MovementCreate(BaseModel):
    """A receipt of goods, or a signed manual adjustment of on_hand."""

    kind: Literal["receipt", "adjustment"]
    quantity: int = Field(ge=-MAX_UNITS, le=MAX_UNITS, strict=True)
    note: str | None = Field(default=None, max_length=500)


class LocationStock(BaseModel):
    location_code: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None = None


class StockLevelRead(BaseModel):
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None = None


class ProductStock(BaseModel):
    product_id: str
    on_hand: int
    reserved: int
    available: int
    locations: list[LocationStock]


class StockRow(LocationStock):
    product_id: str
    updated_at: datetime


class MovementRead(BaseModel):
    id: uuid.UUID
    product_id: str
    location_code: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reference: str | None
    actor: str | None
    note: str | None
    created_at: datetime


class LedgerCheck(BaseModel):
    """on_hand/reserved as the ledger sums them, next to the current state."""

    product_id: str
    location_code: str
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int
    consistent: bool
