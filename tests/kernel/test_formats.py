"""Amounts, numbers, percentages and days as each locale writes them (CLDR via Babel)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from mercato.kernel.formats import CurrencyCode, Formats, LocaleTag

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("locale", "currency", "money", "number", "percent", "day"),
    [
        ("en-US", "USD", "$435,310.77", "1,234,567", "3.45%", "Dec 7, 2026"),
        ("de-DE", "EUR", f"435.310,77{NBSP}€", "1.234.567", f"3,45{NBSP}%", "07.12.2026"),
        ("ja-JP", "JPY", "￥435,311", "1,234,567", "3.45%", "2026/12/07"),
    ],
)
def test_each_locale_writes_figures_its_own_way(
    locale, currency, money, number, percent, day
) -> None:
    formats = Formats(locale, currency)
    assert formats.money(Decimal("435310.77")) == money
    assert formats.number(1234567) == number
    assert formats.percent(0.0345) == percent
    assert formats.day(date(2026, 12, 7)) == day


def test_a_percentage_keeps_the_decimals_asked_for() -> None:
    assert Formats("en-US").percent(-0.1234, digits=1) == "-12.3%"
    assert Formats("fr-FR").percent(0.5, digits=0) == f"50{NBSP}%"


def test_nothing_is_written_as_a_dash() -> None:
    formats = Formats()
    assert (formats.money(None), formats.number(None), formats.percent(None)) == ("—",) * 3


def test_settings_without_values_or_with_values_from_before_validation_use_the_defaults() -> None:
    assert Formats.of({}) == Formats("en-US", "EUR")
    assert Formats.of({"locale": "english", "currency": "EURO"}) == Formats("en-US", "EUR")
    assert Formats.of({"locale": "ja_jp", "currency": "jpy"}) == Formats("ja-JP", "JPY")


@pytest.mark.parametrize(
    ("given", "stored"), [("de-DE", "de-DE"), ("de_de", "de-DE"), ("en", "en")]
)
def test_a_known_locale_is_stored_the_bcp_47_way(given, stored) -> None:
    assert TypeAdapter(LocaleTag).validate_python(given) == stored


@pytest.mark.parametrize("given", ["xx-YY", "english", "", "de-DE-x-private"])
def test_an_unknown_locale_is_refused(given) -> None:
    with pytest.raises(ValidationError, match="unknown locale"):
        TypeAdapter(LocaleTag).validate_python(given)


def test_a_currency_must_be_iso_4217() -> None:
    assert TypeAdapter(CurrencyCode).validate_python("chf") == "CHF"
    with pytest.raises(ValidationError, match="ISO 4217"):
        TypeAdapter(CurrencyCode).validate_python("EUX")
