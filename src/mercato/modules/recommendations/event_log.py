"""Behavioural events and catalog rows as columns, whatever they were read from.

The tracking tables, a simulator's JSON lines and a public click log all end up here, so
the dataset builder and every strategy see one shape: one numpy array per field, strings
as fixed-width unicode (`np.str_`) so they save without pickle, an empty string or NaN
where a value is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

StrArray = NDArray[np.str_]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

CATEGORY_SEPARATOR = " > "


def as_str_array(values: Iterable[object]) -> StrArray:
    """Strings as a fixed-width unicode array; `None` becomes the empty string."""
    array = np.array(["" if value is None else str(value) for value in values], dtype=np.str_)
    return array if array.size else np.array([], dtype="<U1")


def unix_seconds(value: object) -> float:
    """Seconds since the epoch from a datetime, an RFC 3339 string or a number.

    A naive datetime is taken as UTC, like the tracking API does. Missing → NaN.
    """
    if value is None or value == "":
        return float("nan")
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return unix_seconds(datetime.fromisoformat(value.replace("Z", "+00:00")))
    raise TypeError(f"cannot read a timestamp from {type(value).__name__}")


def category_path(value: object) -> str:
    """A category path as `Level 1 > Level 2`, from a string or a list of levels."""
    if value is None:
        return ""
    if isinstance(value, str):
        levels = value.split(">")
    elif isinstance(value, Iterable):
        levels = [str(level) for level in value]
    else:
        levels = [str(value)]
    return CATEGORY_SEPARATOR.join(level.strip() for level in levels if level.strip())


def attributes_text(value: object) -> str:
    """A product's attributes dict flattened to `key value` words for text matching."""
    if not isinstance(value, Mapping):
        return ""
    words: list[str] = []
    for key, item in value.items():
        items = item if isinstance(item, list | tuple) else [item]
        words.extend(f"{key} {element}" for element in items if element is not None)
    return " ".join(words)


def _mask_rows(table: Any, mask: BoolArray | NDArray[np.int64]) -> dict[str, Any]:
    return {field.name: getattr(table, field.name)[mask] for field in fields(table)}


@dataclass(frozen=True)
class EventLog:
    """Behavioural events, one array per field, in any order.

    `type` is the tracking event type (`view_item`, `add_to_cart`, `purchase`, …);
    `timestamp` is in Unix seconds.
    """

    user_id: StrArray
    session_id: StrArray
    type: StrArray
    product_id: StrArray
    timestamp: FloatArray
    order_id: StrArray
    revenue: FloatArray

    def __post_init__(self) -> None:
        sizes = {getattr(self, field.name).shape[0] for field in fields(self)}
        if len(sizes) > 1:
            raise ValueError("every event column must have the same length")

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Self:
        """Events from dicts or mapping rows as the tracking API stores them."""
        columns: dict[str, list[Any]] = {field.name: [] for field in fields(cls)}
        for row in rows:
            columns["user_id"].append(row.get("user_id"))
            columns["session_id"].append(row.get("session_id"))
            columns["type"].append(row.get("type"))
            columns["product_id"].append(row.get("product_id"))
            columns["timestamp"].append(unix_seconds(row.get("timestamp")))
            properties = row.get("properties")
            order_id = row.get("order_id")
            if order_id is None and isinstance(properties, Mapping):
                order_id = properties.get("order_id")  # where the tracking API keeps it
            columns["order_id"].append(order_id)
            revenue = row.get("revenue")
            columns["revenue"].append(float("nan") if revenue is None else float(revenue))
        return cls(
            user_id=as_str_array(columns["user_id"]),
            session_id=as_str_array(columns["session_id"]),
            type=as_str_array(columns["type"]),
            product_id=as_str_array(columns["product_id"]),
            timestamp=np.asarray(columns["timestamp"], dtype=np.float64),
            order_id=as_str_array(columns["order_id"]),
            revenue=np.asarray(columns["revenue"], dtype=np.float64),
        )

    def select(self, mask: BoolArray | NDArray[np.int64]) -> Self:
        """The events a boolean mask or index array picks, e.g. one side of a time split."""
        return type(self)(**_mask_rows(self, mask))


@dataclass(frozen=True)
class CatalogTable:
    """Catalog rows, one array per field; `category` is a path `A > B > C`.

    `created_at` is in Unix seconds (NaN when unknown).
    """

    product_id: StrArray
    name: StrArray
    brand: StrArray
    category: StrArray
    description: StrArray
    attributes: StrArray
    price: FloatArray
    available: BoolArray
    deleted: BoolArray
    created_at: FloatArray

    def __len__(self) -> int:
        return int(self.product_id.shape[0])

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Self:
        """Catalog rows as dicts; `category` may be a path string or a list of levels."""
        columns: dict[str, list[Any]] = {field.name: [] for field in fields(cls)}
        for row in rows:
            columns["product_id"].append(row["product_id"])
            columns["name"].append(row.get("name"))
            columns["brand"].append(row.get("brand"))
            columns["category"].append(category_path(row.get("category")))
            columns["description"].append(row.get("description"))
            columns["attributes"].append(attributes_text(row.get("attributes")))
            price = row.get("price")
            columns["price"].append(float("nan") if price is None else float(price))
            columns["available"].append(bool(row.get("available", True)))
            columns["deleted"].append(bool(row.get("deleted", False)))
            columns["created_at"].append(unix_seconds(row.get("created_at")))
        return cls(
            product_id=as_str_array(columns["product_id"]),
            name=as_str_array(columns["name"]),
            brand=as_str_array(columns["brand"]),
            category=as_str_array(columns["category"]),
            description=as_str_array(columns["description"]),
            attributes=as_str_array(columns["attributes"]),
            price=np.asarray(columns["price"], dtype=np.float64),
            available=np.asarray(columns["available"], dtype=np.bool_),
            deleted=np.asarray(columns["deleted"], dtype=np.bool_),
            created_at=np.asarray(columns["created_at"], dtype=np.float64),
        )

    def select(self, mask: BoolArray | NDArray[np.int64]) -> Self:
        return type(self)(**_mask_rows(self, mask))
