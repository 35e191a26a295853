from __future__ import annotations

import pytest

from mercato.modules.channels import GoogleCategory, TaxonomyIndex, suggest_categories


@pytest.mark.parametrize(
    ("category_path", "product_names", "expected_path"),
    [
        (
            "Furniture > Living room > Sofas",
            ["Oslo 3-seat sofa", "Bergen corner sofa", "Velvet sofa bed"],
            "Furniture > Sofas",
        ),
        (
            "Kitchen > Cookware > Frying pans",
            ["Cast iron skillet 28 cm", "Non-stick frying pan 24cm"],
            "Home & Garden > Kitchen & Dining > Cookware & Bakeware > Cookware"
            " > Skillets & Frying Pans",
        ),
        (
            "Garden > Lawn mowers",
            ["Rotak 32 electric mower"],
            "Home & Garden > Lawn & Garden > Outdoor Power Equipment > Lawn Mowers",
        ),
        (
            "Toys > Board games",
            ["Catan", "Classic board game"],
            "Toys & Games > Games > Board Games",
        ),
        ("Women > Dresses", ["Linen midi dress"], "Apparel & Accessories > Clothing > Dresses"),
        (
            "Pets > Dog food",
            ["Grain-free adult dog food 12kg"],
            "Animals & Pet Supplies > Pet Supplies > Dog Supplies > Dog Food",
        ),
        ("Bathroom > Towels", ["Cotton bath towel"], "Home & Garden > Linens & Bedding > Towels"),
        (
            "Electronics > Mobile phones",
            [],
            "Electronics > Communications > Telephony > Mobile Phones",
        ),
        (
            "Furniture > Dining tables",
            ["Oak dining table"],
            "Furniture > Tables > Kitchen & Dining Room Tables",
        ),
    ],
)
def test_the_sensible_google_category_comes_first(
    taxonomy_index: TaxonomyIndex,
    category_path: str,
    product_names: list[str],
    expected_path: str,
) -> None:
    suggestions = suggest_categories(category_path, product_names, taxonomy_index)
    assert suggestions[0].category.path == expected_path
    assert len(suggestions) == 5
    scores = [suggestion.score for suggestion in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert 0 < scores[-1] <= scores[0] <= 1


def test_product_names_decide_when_the_category_name_says_little(
    taxonomy_index: TaxonomyIndex,
) -> None:
    """A merchant category named "New arrivals" carries no meaning; its products do."""
    names = ["Oak dining table", "Walnut dining table", "Dining table 6 seats"]
    suggestions = suggest_categories("New arrivals", names, taxonomy_index)
    assert suggestions[0].category.path == "Furniture > Tables"
    paths = [suggestion.category.path for suggestion in suggestions]
    assert "Furniture > Tables > Kitchen & Dining Room Tables" in paths
    barbecues = suggest_categories(
        "Garden > Barbecues", ["Charcoal grill", "Gas grill 3 burners"], taxonomy_index
    )
    assert barbecues[0].category.path.endswith("Kitchen Appliances > Outdoor Grills")


def test_limit_and_inputs_without_words(taxonomy_index: TaxonomyIndex) -> None:
    assert len(suggest_categories("Sofas", [], taxonomy_index, limit=2)) == 2
    assert suggest_categories("123 / 456", ["42"], taxonomy_index) == []
    assert suggest_categories("Sofas", [], taxonomy_index, limit=0) == []


def test_a_small_taxonomy_ranks_by_leaf_before_ancestors() -> None:
    categories = [
        GoogleCategory(1, "Furniture", "Furniture", None, 1, "v"),
        GoogleCategory(2, "Furniture > Tables", "Tables", 1, 2, "v"),
        GoogleCategory(3, "Furniture > Sofas", "Sofas", 1, 2, "v"),
        GoogleCategory(4, "Furniture > Sofas > Sofa Tables", "Sofa Tables", 3, 3, "v"),
    ]
    index = TaxonomyIndex(categories)
    assert [s.category.id for s in suggest_categories("Sofas", [], index, limit=2)] == [3, 4]
    assert suggest_categories("Home > Sofa tables", [], index)[0].category.id == 4
    assert index.get(4) is categories[3]
    assert index.get(99) is None
