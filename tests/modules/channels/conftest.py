from __future__ import annotations

from pathlib import Path

import pytest

from mercato.modules.channels import GoogleCategory, TaxonomyIndex, read_taxonomy_file

TAXONOMY_FILE = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "google-product-taxonomy-with-ids.en-US.txt"
)


@pytest.fixture(scope="session")
def google_categories() -> list[GoogleCategory]:
    """Google's published taxonomy, read from ../shared/data (never copied into the repo)."""
    if not TAXONOMY_FILE.exists():
        pytest.skip(f"{TAXONOMY_FILE} is not there")
    return list(read_taxonomy_file(TAXONOMY_FILE))


@pytest.fixture(scope="session")
def taxonomy_index(google_categories: list[GoogleCategory]) -> TaxonomyIndex:
    """Built once for the run: building is the expensive part, queries are not."""
    return TaxonomyIndex(google_categories)
