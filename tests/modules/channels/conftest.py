from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mercato.modules.channels import (
    GoogleCategory,
    TaxonomyIndex,
    bundled_taxonomy,
    read_taxonomy_file,
)
from mercato.settings import get_settings
from tests.fakes.google import FakeGoogle, serve

TAXONOMY_FILE = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "google-product-taxonomy-with-ids.en-US.txt"
)


# A few categories of Google's taxonomy (ids and paths as Google publishes them): enough for
# the tests that align the test shop's categories, when Google's whole file is not here.
SMALL_TAXONOMY = """# Google_Product_Taxonomy_Version: test-excerpt
436 - Furniture
6356 - Furniture > Cabinets & Storage
443 - Furniture > Chairs
4299 - Furniture > Outdoor Furniture
460 - Furniture > Sofas
536 - Home & Garden
696 - Home & Garden > Decor
638 - Home & Garden > Kitchen & Dining
6070 - Home & Garden > Kitchen & Dining > Cookware & Bakeware
640 - Home & Garden > Kitchen & Dining > Cookware & Bakeware > Bakeware
654 - Home & Garden > Kitchen & Dining > Cookware & Bakeware > Cookware
655 - Home & Garden > Kitchen & Dining > Cookware & Bakeware > Cookware > Casserole Dishes
657 - Home & Garden > Kitchen & Dining > Cookware & Bakeware > Cookware > Dutch Ovens
658 - Home & Garden > Kitchen & Dining > Cookware & Bakeware > Cookware > Griddles & Grill Pans
662 - Home & Garden > Kitchen & Dining > Cookware & Bakeware > Cookware > Skillets & Frying Pans
659 - Home & Garden > Kitchen & Dining > Cookware & Bakeware > Cookware > Stovetop Kettles
689 - Home & Garden > Lawn & Garden
2918 - Home & Garden > Lawn & Garden > Outdoor Living
"""


def _taxonomy_source() -> Iterator[Path | None]:
    """Google's whole file: ../shared/data's copy, else the one Mercato ships as package
    data (`taxonomy/bundled.py`), else None."""
    if TAXONOMY_FILE.exists():
        yield TAXONOMY_FILE
        return
    with bundled_taxonomy() as shipped:
        yield shipped


@pytest.fixture(scope="session")
def taxonomy_file() -> Iterator[Path]:
    """Google's whole taxonomy; the tests that need all of it skip without it."""
    for found in _taxonomy_source():
        if found is None:
            pytest.skip(f"{TAXONOMY_FILE} is not there and this build ships no taxonomy")
        yield found


@pytest.fixture(scope="session")
def google_categories(taxonomy_file: Path) -> list[GoogleCategory]:
    return list(read_taxonomy_file(taxonomy_file))


@pytest.fixture(scope="session")
def taxonomy_index(google_categories: list[GoogleCategory]) -> TaxonomyIndex:
    """Built once for the run: building is the expensive part, queries are not."""
    return TaxonomyIndex(google_categories)


@pytest.fixture
async def google(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeGoogle]:
    """A fake Google on 127.0.0.1 with every MERCATO_GOOGLE_* setting pointing at it."""
    async with serve(FakeGoogle()) as fake:
        for name, value in fake.settings_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("MERCATO_FEED_PUSH_BACKOFF_BASE_S", "0.01")
        monkeypatch.setenv("MERCATO_FEED_PUSH_BACKOFF_MAX_S", "0.05")
        get_settings.cache_clear()
        try:
            yield fake
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()


@pytest.fixture(scope="session")
async def taxonomy_in_database(app: object, tmp_path_factory: pytest.TempPathFactory) -> int:
    """Google's taxonomy loaded into the test database once (the CLI's own loader): the
    whole file when there is one, else `SMALL_TAXONOMY`."""
    from mercato.kernel.db import get_database
    from mercato.modules.channels.taxonomy.store import load_taxonomy_file

    owner_url = get_database().urls.owner
    for found in _taxonomy_source():
        path = found
        if path is None:
            path = tmp_path_factory.mktemp("taxonomy") / "taxonomy-with-ids.txt"
            path.write_text(SMALL_TAXONOMY, encoding="utf-8")
        report = await load_taxonomy_file(owner_url, path)
    return report.loaded
