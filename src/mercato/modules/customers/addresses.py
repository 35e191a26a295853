"""Postal addresses: what a shipping or billing address must look like, and the defaults a
customer's address book gives a checkout.

Checks, in the merchant's interest of parcels that arrive:
- `country`: an ISO 3166-1 alpha-2 code that exists (the `iso3166` list; the user-assigned
  `X*` codes are refused).
- `postal_code`: trimmed, upper-cased, inner runs of spaces made one; where the country is in
  `POSTAL_CODE_SHAPES` it must have that shape (the table is ours, written from the
  countries' published formats), elsewhere any 1 to 20 letters, digits, spaces and dashes.
- `phone`: parsed with `phonenumberslite` (the country is the region of a national number),
  valid for its numbering plan, stored in E.164 (`+` and 8 to 15 digits).
"""

from __future__ import annotations

import re
from typing import Any

import iso3166
import phonenumbers
from pydantic import BaseModel, Field, ValidationInfo, field_validator

# A shape per country where one is published and stable. Codes are compared after
# normalisation (upper case, single inner spaces).
POSTAL_CODE_SHAPES: dict[str, re.Pattern[str]] = {
    country: re.compile(shape)
    for country, shape in {
        "AT": r"^\d{4}$",
        "AU": r"^\d{4}$",
        "BE": r"^\d{4}$",
        "CA": r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$",
        "CH": r"^\d{4}$",
        "DE": r"^\d{5}$",
        "DK": r"^\d{4}$",
        "ES": r"^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$",
        "FI": r"^\d{5}$",
        "FR": r"^\d{5}$",
        "GB": r"^(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$",
        "IE": r"^[AC-FHKNPRTV-Y]\d{2}[ \dW]? ?[\dAC-FHKNPRTV-Y]{4}$",
        "IT": r"^\d{5}$",
        "JP": r"^\d{3}-?\d{4}$",
        "NL": r"^[1-9]\d{3} ?[A-Z]{2}$",
        "NO": r"^\d{4}$",
        "NZ": r"^\d{4}$",
        "PL": r"^\d{2}-\d{3}$",
        "PT": r"^\d{4}-\d{3}$",
        "SE": r"^\d{3} ?\d{2}$",
        "US": r"^\d{5}(?:-\d{4})?$",
    }.items()
}
ANY_POSTAL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,19}$")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def valid_country(code: str) -> str:
    if code.startswith("X") or code not in iso3166.countries_by_alpha2:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def normal_postal_code(code: str, country: str | None) -> str:
    """The code as stored; ValueError when it does not have the country's shape."""
    normal = " ".join(code.upper().split())
    shape = POSTAL_CODE_SHAPES.get(country or "", ANY_POSTAL_CODE)
    if not shape.match(normal):
        where = f"in {country} " if country in POSTAL_CODE_SHAPES else ""
        raise ValueError(f"{code!r} is not a postal code {where}(its shape does not match)")
    return normal


def e164_phone(phone: str, country: str | None) -> str:
    """The number in E.164; ValueError when it does not parse or is not a valid number."""
    try:
        parsed = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{phone!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{phone!r} is not a valid phone number")
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not E164.match(number):
        raise ValueError(f"{phone!r} is not a phone number E.164 can express")
    return number


class AddressRead(BaseModel):
    """An address as stored on a cart or an order (checked when it was written)."""

    name: str
    line1: str
    line2: str | None = None
    city: str
    region: str | None = None
    postal_code: str
    country: str
    phone: str | None = None


class PostalAddress(BaseModel):
    """A shipping or billing address as given: checked and normalised (module docstring)."""

    # Declared before the fields whose checks depend on it.
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str | None = Field(default=None, max_length=100, description="State, province")
    postal_code: str = Field(min_length=1, max_length=20, description="Shape per country")
    phone: str | None = Field(default=None, max_length=40, description="Stored in E.164")

    @field_validator("country")
    @classmethod
    def _country_exists(cls, value: str) -> str:
        return valid_country(value)

    @field_validator("postal_code")
    @classmethod
    def _postal_code_shape(cls, value: str, info: ValidationInfo) -> str:
        return normal_postal_code(value, info.data.get("country"))

    @field_validator("phone")
    @classmethod
    def _phone_e164(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else e164_phone(value, info.data.get("country"))


class Address(PostalAddress):
    """An entry of a customer's address book."""

    label: str | None = Field(default=None, max_length=60)
    default_shipping: bool = Field(default=False, strict=True)
    default_billing: bool = Field(default=False, strict=True)


def stored_address(address: PostalAddress | None) -> dict[str, Any] | None:
    """The JSON a cart or an order keeps (the address-book flags left out)."""
    if address is None:
        return None
    return address.model_dump(mode="json", include=set(AddressRead.model_fields))


def default_addresses(
    book: list[dict[str, Any]],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The (shipping, billing) addresses a checkout takes from an address book.

    The entry flagged `default_shipping` (else the first) ships; the one flagged
    `default_billing` (else the shipping one) bills. Entries saved before addresses were
    checked that do not pass the checks now are skipped rather than copied onto an order.
    """
    usable: list[Address] = []
    for entry in book:
        try:
            usable.append(Address.model_validate(entry))
        except ValueError:
            continue
    if not usable:
        return None, None
    shipping = next((a for a in usable if a.default_shipping), usable[0])
    billing = next((a for a in usable if a.default_billing), shipping)
    return stored_address(shipping), stored_address(billing)
