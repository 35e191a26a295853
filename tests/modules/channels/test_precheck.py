from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mercato.modules.channels import FeedIssue, FeedItem, check_item, precheck, valid_items
from tests.modules.channels.factories import clean_item


def codes(issues: list[FeedIssue]) -> dict[str, tuple[str, str]]:
    """code → (attribute, severity)."""
    return {issue.code: (issue.attribute, issue.severity) for issue in issues}


class TestPlantedDefects:
    """The defects the channels issue plants, each caught with its code and severity."""

    def test_clean_items_have_no_issue(self) -> None:
        result = precheck([clean_item("A"), clean_item("B")])
        assert (result.checked, result.valid, result.invalid, result.issues) == (2, 2, 0, [])

    @pytest.mark.parametrize(
        ("overrides", "code", "attribute", "severity"),
        [
            ({"image_url": None}, "missing_image_link", "image_link", "error"),
            ({"gtin": "4006381333932"}, "invalid_gtin", "gtin", "error"),
            ({"name": "x" * 151}, "title_too_long", "title", "error"),
            ({"price": Decimal("0")}, "price_not_positive", "price", "error"),
            (
                {"availability": "preorder"},
                "availability_date_required",
                "availability_date",
                "error",
            ),
            (
                {"google_category_id": None},
                "unaligned_category",
                "google_product_category",
                "warning",
            ),
        ],
    )
    def test_planted_defect_is_caught(
        self, overrides: dict[str, Any], code: str, attribute: str, severity: str
    ) -> None:
        issues = check_item(clean_item(**overrides))
        assert codes(issues) == {code: (attribute, severity)}
        assert all(issue.product_id == "SKU-1" and issue.message for issue in issues)

    def test_a_batch_counts_errors_as_invalid_and_warnings_as_valid(self) -> None:
        items = [
            clean_item("ok-1"),
            clean_item("no-image", image_url=""),
            clean_item("bad-gtin", gtin="4006381333930"),
            clean_item("long-title", name="t" * 151),
            clean_item("free", price=Decimal("0")),
            clean_item("preorder", availability="preorder", stock_quantity=0),
            clean_item("unaligned", google_category_id=None),
            clean_item("ok-2", name="t" * 150),
        ]
        result = precheck(items)
        assert (result.checked, result.valid, result.invalid) == (8, 3, 5)
        by_product = {(issue.product_id, issue.code) for issue in result.issues}
        assert by_product == {
            ("no-image", "missing_image_link"),
            ("bad-gtin", "invalid_gtin"),
            ("long-title", "title_too_long"),
            ("free", "price_not_positive"),
            ("preorder", "availability_date_required"),
            ("unaligned", "unaligned_category"),
        }
        assert [item.product_id for item in valid_items(items)] == ["ok-1", "unaligned", "ok-2"]


class TestRules:
    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"product_id": "p" * 51}, "id_too_long"),
            ({"product_id": "  "}, "missing_id"),
            ({"name": "  "}, "missing_title"),
            ({"description": None}, "missing_description"),
            ({"description": "d" * 5001}, "description_too_long"),
            ({"link": None}, "missing_link"),
            ({"link": "/p/sku-1"}, "invalid_link"),
            ({"link": "ftp://shop.example.com/p"}, "invalid_link"),
            ({"link": "https://shop.example.com/p/a b"}, "invalid_link"),
            ({"image_url": "https:///no-host.jpg"}, "invalid_image_link"),
            ({"image_url": "https://cdn.example.com/" + "i" * 2000}, "invalid_image_link"),
            ({"stock_quantity": None}, "missing_availability"),
            ({"availability": "sold_out"}, "invalid_availability"),
            ({"availability": "backorder"}, "availability_date_required"),
            ({"price": None}, "missing_price"),
            ({"price": Decimal("-1.00")}, "price_not_positive"),
            ({"price": Decimal("NaN")}, "price_not_positive"),
            ({"currency": None}, "missing_currency"),
            ({"currency": "EUX"}, "invalid_currency"),
            ({"gtin": "123456"}, "invalid_gtin"),
            ({"gtin": "40063813339a1"}, "invalid_gtin"),
            ({"brand": "b" * 71}, "brand_too_long"),
            ({"mpn": "m" * 71}, "mpn_too_long"),
            ({"condition": "like new"}, "invalid_condition"),
            ({"item_group_id": "g" * 51}, "item_group_id_too_long"),
        ],
    )
    def test_each_error_blocks_the_item(self, overrides: dict[str, Any], code: str) -> None:
        issues = check_item(clean_item(**overrides))
        assert code in codes(issues)
        assert codes(issues)[code][1] == "error"
        assert precheck([clean_item(**overrides)]).invalid == 1

    @pytest.mark.parametrize(
        ("overrides", "code", "severity"),
        [
            ({"sale_price": Decimal("999.00")}, "invalid_sale_price", "warning"),
            ({"sale_price": Decimal("0")}, "invalid_sale_price", "warning"),
            ({"brand": None}, "missing_brand", "warning"),
            ({"is_variant": True}, "missing_item_group_id", "warning"),
            ({"gtin": None, "mpn": None}, "identifier_exists_no", "info"),
            ({"gtin": None, "mpn": None, "brand": None}, "identifier_exists_no", "info"),
        ],
    )
    def test_warnings_and_notes_do_not_block(
        self, overrides: dict[str, Any], code: str, severity: str
    ) -> None:
        issues = check_item(clean_item(**overrides))
        assert codes(issues) == {code: (codes(issues)[code][0], severity)}
        assert precheck([clean_item(**overrides)]).valid == 1

    def test_brand_with_mpn_identifies_a_product_without_gtin(self) -> None:
        assert check_item(clean_item(gtin=None)) == []
        only_mpn = codes(check_item(clean_item(gtin=None, brand=None)))
        assert set(only_mpn) == {"missing_brand", "identifier_exists_no"}

    @pytest.mark.parametrize(
        ("overrides", "derived_ok"),
        [
            ({"stock_quantity": 0}, True),
            ({"stock_quantity": None, "available": True}, True),
            ({"stock_quantity": None, "available": False}, True),
            ({"availability": "preorder", "availability_date": date(2031, 1, 15)}, True),
            ({"availability": " In_Stock "}, True),
            ({"stock_quantity": None, "available": None}, False),
        ],
    )
    def test_availability_is_derived_from_stock_when_not_set(
        self, overrides: dict[str, Any], derived_ok: bool
    ) -> None:
        assert (check_item(clean_item(**overrides)) == []) is derived_ok

    def test_variants_with_a_group_and_other_conditions_pass(self) -> None:
        assert check_item(clean_item(is_variant=True, item_group_id="OSLO")) == []
        assert check_item(clean_item(condition="Refurbished")) == []
        assert check_item(clean_item(condition=None)) == []
        assert check_item(clean_item(currency="jpy", price=Decimal("1200"))) == []

    def test_a_category_missing_from_the_loaded_taxonomy_is_flagged(self) -> None:
        issues = check_item(clean_item(google_category_id=999_999), known_categories={460})
        assert codes(issues) == {"unknown_google_category": ("google_product_category", "warning")}
        assert check_item(clean_item(), known_categories={460}) == []

    def test_a_repeated_id_is_an_error_on_the_second_item(self) -> None:
        result = precheck([clean_item("A"), clean_item("A"), clean_item("B")])
        assert (result.valid, result.invalid) == (2, 1)
        assert [(issue.product_id, issue.code) for issue in result.issues] == [
            ("A", "duplicate_id")
        ]


def test_a_hundred_thousand_items_are_all_checked() -> None:
    """Volume correctness; the speed of this is measured by bench/channels_feed.py."""
    base = clean_item()
    defects: list[dict[str, Any]] = [
        {},
        {"image_url": None},
        {"gtin": "4006381333932"},
        {"google_category_id": None},
        {"gtin": None, "mpn": None, "brand": None},
    ]
    items = [
        replace(base, product_id=f"SKU-{i}", **defects[i % len(defects)]) for i in range(100_000)
    ]
    result = precheck(items)
    assert (result.checked, result.valid, result.invalid) == (100_000, 60_000, 40_000)
    assert len(result.issues) == 80_000


def test_feed_item_is_immutable() -> None:
    item = clean_item()
    with pytest.raises(AttributeError):
        item.name = "changed"  # type: ignore[misc]
    assert isinstance(item, FeedItem)
