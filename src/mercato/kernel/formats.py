"""Amounts, numbers and dates in a tenant's locale, with Babel's CLDR data.

A tenant's settings name a `locale` (BCP 47, e.g. `de-DE`) and a `currency` (ISO 4217).
`Formats` turns figures into text for people — the dashboard, report e-mails, the
formatted columns of CSV exports — so `435310.77` reads `$435,310.77` for en-US,
`435.310,77 €` for de-DE and `￥435,311` for ja-JP (yen have no minor unit). Machine-read
values (API fields, the numeric CSV columns) stay plain numbers.

Analytics sums the revenue of every order as recorded; the tenant's currency is the one
those amounts are shown in (nothing here converts between currencies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any

import iso4217
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, parse_pattern
from pydantic import AfterValidator

DEFAULT_LOCALE = "en-US"
DEFAULT_CURRENCY = "EUR"
"""What a tenant without settings gets: the currency the catalog's product form and the
demo shop already use, in US English (the dashboard's language)."""

ISO_CURRENCIES = frozenset(currency.code for currency in iso4217.Currency)

Amount = Decimal | float | int


@lru_cache(maxsize=256)
def _locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("_", "-"), sep="-")


def _known_locale(value: str) -> str:
    """A locale CLDR knows, written the BCP 47 way (`de_de` → `de-DE`)."""
    try:
        return str(_locale(value.strip())).replace("_", "-")
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {value!r} (use a BCP 47 tag such as de-DE)") from exc


def _known_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


LocaleTag = Annotated[str, AfterValidator(_known_locale)]
CurrencyCode = Annotated[str, AfterValidator(_known_currency)]


@dataclass(frozen=True)
class Formats:
    """How one tenant's figures are written for people."""

    locale: str = DEFAULT_LOCALE
    currency: str = DEFAULT_CURRENCY

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Formats:
        """From a tenant's settings; a value stored before validation existed that is not
        a known locale or currency falls back to the default rather than break a page."""
        try:
            locale = _known_locale(str(settings.get("locale") or DEFAULT_LOCALE))
        except ValueError:
            locale = DEFAULT_LOCALE
        try:
            currency = _known_currency(str(settings.get("currency") or DEFAULT_CURRENCY))
        except ValueError:
            currency = DEFAULT_CURRENCY
        return cls(locale, currency)

    def money(self, amount: Amount | None, currency: str | None = None) -> str:
        """`amount` in `currency` (an order's or a cart's own), else the tenant's, with the
        symbol and digits as the locale writes them."""
        if amount is None:
            return "—"
        return format_currency(amount, currency or self.currency, locale=_locale(self.locale))

    def number(self, value: Amount | None) -> str:
        """A count or quantity with the locale's grouping and decimal signs."""
        if value is None:
            return "—"
        return format_decimal(value, locale=_locale(self.locale))

    def percent(self, ratio: Amount | None, *, digits: int = 2) -> str:
        """`0.0345` → `3.45%` (en-US), `3,45 %` (de-DE): the locale's percent pattern
        with `digits` decimals (CLDR's own has none)."""
        if ratio is None:
            return "—"
        locale = _locale(self.locale)
        pattern = parse_pattern(locale.percent_formats[None].pattern)
        pattern.frac_prec = (digits, digits)
        return format_percent(ratio, pattern, locale=locale)

    def day(self, value: date) -> str:
        """A calendar day, medium length: `Dec 7, 2026`, `07.12.2026`, `2026/12/07`."""
        return format_date(value, "medium", locale=_locale(self.locale))
