"""Request and response shapes of the Catalog section of API.md.

`ProductCreate` is the one validator of a product body: PUT uses it directly, PATCH
validates the stored product merged with the patch, batch and file imports validate each
row with it, so every write path accepts and rejects exactly the same things.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from mercato.kernel.errors import field_error
from mercato.kernel.formats import ISO_CURRENCIES
from mercato.modules.catalog.gtin import is_valid_gtin

PRODUCT_ID = re.compile(r"^[^\s/?#][^/?#]{0,127}$")
URL = re.compile(r"^https?://[^\s]{1,2000}$", re.IGNORECASE)
PATH_SEPARATOR = ">"
MAX_PRICE = Decimal("1000000000000")
MAX_BATCH = 10_000

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Condition = Literal["new", "refurbished", "used"]
Sort = Literal["relevance", "price_asc", "price_desc", "newest"]


def category_names(path: str) -> list[str]:
    """`"Furniture > Sofas"` → `["Furniture", "Sofas"]` (blank levels are an error)."""
    names = [part.strip() for part in path.split(PATH_SEPARATOR)]
    if not names or any(not name for name in names):
        raise ValueError("a category path is names separated by '>', none of them empty")
    if len(names) > 10 or any(len(name) > 200 for name in names):
        raise ValueError("a category path has at most 10 levels of at most 200 characters")
    return names


def _money(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value >= MAX_PRICE:
        raise PydanticCustomError("money", f"{field} must be a non-negative amount")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise PydanticCustomError("money", f"{field} has more than 4 decimal places")
    return value


def _url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not URL.match(value):
        raise PydanticCustomError("url", "must be an http(s) URL")
    return value


class ProductCreate(BaseModel):
    """A product body (PUT, batch item, import row)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    product_id: str | None = Field(default=None, description="Only in batch items and imports")
    name: str = Field(min_length=1, max_length=500)
    price: Decimal
    currency: str = Field(min_length=3, max_length=3)
    description: str | None = Field(default=None, max_length=20_000)
    sale_price: Decimal | None = None
    category: str | None = Field(default=None, max_length=2_100)
    brand: Text200 | None = None
    gtin: str | None = Field(default=None, max_length=14)
    mpn: str | None = Field(default=None, max_length=70)
    condition: Condition | None = None
    link: str | None = None
    image_url: str | None = None
    additional_image_urls: list[str] = Field(default_factory=list, max_length=10)
    available: bool = Field(default=True, strict=True)
    item_group_id: str | None = Field(default=None, min_length=1, max_length=128)
    variant_attributes: dict[Text200, Text200] = Field(default_factory=dict, max_length=20)
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=100)

    @field_validator("product_id")
    @classmethod
    def _product_id(cls, value: str | None) -> str | None:
        if value is not None and not PRODUCT_ID.match(value):
            raise PydanticCustomError(
                "product_id", "1-128 characters, without '/', '?', '#' or leading space"
            )
        return value

    @field_validator("price")
    @classmethod
    def _price(cls, value: Decimal) -> Decimal:
        checked = _money(value, "price")
        assert checked is not None
        return checked

    @field_validator("sale_price")
    @classmethod
    def _sale_price(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        checked = _money(value, "sale_price")
        price = info.data.get("price")
        if checked is not None and price is not None and checked >= price:
            raise PydanticCustomError("sale_price", "must be below price")
        return checked

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.upper()
        if code not in ISO_CURRENCIES:
            raise PydanticCustomError("currency", "not an ISO 4217 currency code")
        return code

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return " > ".join(category_names(value))
        except ValueError as exc:
            raise PydanticCustomError("category", str(exc)) from None

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not is_valid_gtin(value):
            raise PydanticCustomError("gtin", "not a GTIN-8/12/13/14 with a valid check digit")
        return value

    @field_validator("link", "image_url")
    @classmethod
    def _single_url(cls, value: str | None) -> str | None:
        return _url(value) if value else None

    @field_validator("additional_image_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [url for url in (_url(item) for item in value) if url]

    @field_validator("attributes")
    @classmethod
    def _attributes_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(repr(value)) > 16_384:
            raise PydanticCustomError("attributes", "attributes are limited to 16 KB")
        return value


class ProductUpdate(BaseModel):
    """PATCH: any subset of the product fields; null clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    description: str | None = None
    sale_price: Decimal | None = None
    category: str | None = None
    brand: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    condition: str | None = None
    link: str | None = None
    image_url: str | None = None
    additional_image_urls: list[str] | None = None
    available: bool | None = Field(default=None, strict=True)
    item_group_id: str | None = None
    variant_attributes: dict[str, str] | None = None
    attributes: dict[str, Any] | None = None


class ProductRead(BaseModel):
    """A product document; `category` is the category path, `price` a decimal string."""

    product_id: str
    name: str
    description: str | None
    price: Decimal
    currency: str
    sale_price: Decimal | None
    current_price: Decimal
    category: str | None
    category_id: uuid.UUID | None
    brand: str | None
    gtin: str | None
    mpn: str | None
    condition: str | None
    link: str | None
    image_url: str | None
    additional_image_urls: list[str]
    available: bool
    item_group_id: str | None
    variant_attributes: dict[str, str]
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class FacetCount(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    category: list[FacetCount]
    brand: list[FacetCount]


class ProductList(BaseModel):
    data: list[ProductRead]
    next_cursor: str | None = None
    facets: Facets | None = Field(
        default=None, description="Counts over the whole filtered result, with ?facets=true"
    )


class BatchRequest(BaseModel):
    """Items stay raw here so one invalid item is reported by index, not as a 422."""

    products: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


class BatchFailure(BaseModel):
    index: int
    product_id: str | None = None
    errors: list[dict[str, str]]


class BatchResult(BaseModel):
    created: int
    updated: int
    failed: list[BatchFailure]


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200
    parent_id: uuid.UUID | None = None
    google_category_id: int | None = Field(default=None, ge=1, strict=True)

    @field_validator("name")
    @classmethod
    def _no_separator(cls, value: str) -> str:
        if PATH_SEPARATOR in value:
            raise PydanticCustomError("category_name", "a category name cannot contain '>'")
        return value


class CategoryUpdate(BaseModel):
    """Rename, move (`parent_id`, null = make it a root) or align with Google's taxonomy."""

    model_config = ConfigDict(extra="forbid")

    name: Text200 | None = None
    parent_id: uuid.UUID | None = None
    google_category_id: int | None = Field(default=None, ge=1, strict=True)

    @field_validator("name")
    @classmethod
    def _no_separator(cls, value: str | None) -> str | None:
        if value is not None and PATH_SEPARATOR in value:
            raise PydanticCustomError("category_name", "a category name cannot contain '>'")
        return value


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    path: str
    depth: int
    google_category_id: int | None
    created_at: datetime
    updated_at: datetime


class CategoryList(BaseModel):
    data: list[CategoryRead]
    next_cursor: str | None = None


def validation_errors(exc: PydanticValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as the field-level entries of a 422 problem."""
    return [
        field_error(
            ".".join(str(part) for part in err.get("loc", ())) or "body",
            str(err.get("msg", "invalid")),
            str(err.get("type", "invalid")),
        )
        for err in exc.errors()
    ]
