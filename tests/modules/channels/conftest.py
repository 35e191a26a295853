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


@pytest.fixture(scope="session")
def taxonomy_file() -> Iterator[Path]:
    """Google's published taxonomy: ../shared/data's copy, else the one Mercato ships as
    package data (`taxonomy/bundled.py`); the tests that need it skip with neither."""
    if TAXONOMY_FILE.exists():
        yield TAXONOMY_FILE
        return
    with bundled_taxonomy() as shipped:
        if shipped is None:
            pytest.skip(f"{TAXONOMY_FILE} is not there and this build ships no taxonomy")
        yield shipped


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
async def taxonomy_in_database(app: object, taxonomy_file: Path) -> int:
    """Google's taxonomy loaded into the test database once (the CLI's own loader)."""
    from mercato.kernel.db import get_database
    from mercato.modules.channels.taxonomy.store import load_taxonomy_file

    owner_url = get_database().urls.owner
    report = await load_taxonomy_file(owner_url, taxonomy_file)
    return report.loaded
