from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mercato.modules.channels import GoogleCategory, TaxonomyIndex, read_taxonomy_file
from mercato.settings import get_settings
from tests.fakes.google import FakeGoogle, serve

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
async def taxonomy_in_database(app: object) -> int:
    """Google's taxonomy loaded into the test database once (the CLI's own loader)."""
    if not TAXONOMY_FILE.exists():
        pytest.skip(f"{TAXONOMY_FILE} is not there")
    from mercato.kernel.db import get_database
    from mercato.modules.channels.taxonomy.store import load_taxonomy_file

    owner_url = get_database().urls.owner
    report = await load_taxonomy_file(owner_url, TAXONOMY_FILE)
    return report.loaded
