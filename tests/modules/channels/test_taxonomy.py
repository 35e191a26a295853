from __future__ import annotations

from collections.abc import Iterator

import pytest

from mercato.modules.channels import GoogleCategory, TaxonomyFormatError, parse_taxonomy

HEADER = "# Google_Product_Taxonomy_Version: 2021-09-21\n"


class TestPublishedTaxonomy:
    def test_every_category_is_read_with_its_version(
        self, google_categories: list[GoogleCategory]
    ) -> None:
        assert len(google_categories) == 5595
        assert {category.version for category in google_categories} == {"2021-09-21"}
        assert len({category.id for category in google_categories}) == 5595

    def test_records_know_their_parent_level_and_leaf(
        self, google_categories: list[GoogleCategory]
    ) -> None:
        by_id = {category.id: category for category in google_categories}
        sofas = by_id[460]
        assert sofas.path == "Furniture > Sofas"
        assert sofas.name == "Sofas"
        assert sofas.level == 2
        assert sofas.parent_id is not None
        assert by_id[sofas.parent_id].path == "Furniture"
        assert by_id[sofas.parent_id].parent_id is None
        frying = by_id[662]
        assert frying.level == 5
        assert frying.name == "Skillets & Frying Pans"

    def test_each_parent_path_is_the_path_minus_its_leaf(
        self, google_categories: list[GoogleCategory]
    ) -> None:
        by_id = {category.id: category for category in google_categories}
        for category in google_categories:
            if category.parent_id is None:
                assert category.level == 1
            else:
                parent = by_id[category.parent_id]
                assert category.path == f"{parent.path} > {category.name}"
                assert category.level == parent.level + 1


class TestParser:
    def test_windows_line_endings_blank_lines_and_bom_are_tolerated(self) -> None:
        text = "\ufeff" + HEADER.replace("\n", "\r\n") + "1 - Animals\r\n\r\n2 - Animals > Pets\r\n"
        categories = list(parse_taxonomy(text.splitlines(keepends=True)))
        assert [(c.id, c.path, c.parent_id, c.level) for c in categories] == [
            (1, "Animals", None, 1),
            (2, "Animals > Pets", 1, 2),
        ]

    def test_it_streams_lines_as_they_come(self) -> None:
        consumed: list[str] = []

        def lines() -> Iterator[str]:
            for line in (HEADER, "1 - Animals\n", "2 - Animals > Pets\n", "garbage\n"):
                consumed.append(line)
                yield line

        categories = parse_taxonomy(lines())
        assert next(categories).id == 1
        assert len(consumed) == 2
        assert next(categories).id == 2
        with pytest.raises(TaxonomyFormatError):
            next(categories)

    @pytest.mark.parametrize(
        ("lines", "line_number", "reason"),
        [
            (["1 - Animals\n"], 1, "Google_Product_Taxonomy_Version"),
            ([HEADER, "1 - Animals\n", "Animals > Pets\n"], 3, "ID - Level 1"),
            ([HEADER, "1 - Animals\n", "x2 - Animals > Pets\n"], 3, "ID - Level 1"),
            ([HEADER, "1 - Animals\n", "2 - Animals >  > Pets\n"], 3, "empty level"),
            ([HEADER, "1 - Animals\n", "1 - Plants\n"], 3, "duplicate category id 1"),
            ([HEADER, "1 - Animals\n", "2 - Animals\n"], 3, "duplicate category path"),
            ([HEADER, "1 - Animals\n", "3 - Animals > Pets > Cats\n"], 3, "not listed before"),
            ([], 1, "empty file"),
        ],
    )
    def test_malformed_lines_are_reported_with_their_line_number(
        self, lines: list[str], line_number: int, reason: str
    ) -> None:
        with pytest.raises(TaxonomyFormatError, match=f"line {line_number}: .*{reason}") as error:
            list(parse_taxonomy(lines))
        assert error.value.line_number == line_number
