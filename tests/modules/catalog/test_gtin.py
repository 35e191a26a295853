from __future__ import annotations

import pytest

from mercato.modules.catalog.gtin import complete_gtin, is_valid_gtin


@pytest.mark.parametrize(
    "gtin",
    ["4006381333931", "96385074", "036000291452", "00012345600012", "5901234123457"],
)
def test_published_examples_are_valid(gtin: str) -> None:
    assert is_valid_gtin(gtin)


@pytest.mark.parametrize(
    "gtin", ["4006381333932", "96385075", "036000291453", "12345", "40063813339a1", ""]
)
def test_wrong_check_digit_length_or_characters_are_invalid(gtin: str) -> None:
    assert not is_valid_gtin(gtin)


def test_complete_gtin_appends_the_check_digit() -> None:
    assert complete_gtin("400638133393") == "4006381333931"
    with pytest.raises(ValueError, match="GTIN body"):
        complete_gtin("123")
