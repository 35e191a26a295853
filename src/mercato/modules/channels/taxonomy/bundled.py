"""Google's taxonomy shipped with Mercato as package data, so a fresh install can align
categories without a download.

The copy is `data/taxonomy-with-ids.en-US.txt.gz` in this package (Google's en-US
`taxonomy-with-ids` file, gzip-compressed), read through `importlib.resources` so it works
from a wheel too. A build without it (the file is Google's and is added by the release
step that fetches it) simply has none: `bundled_taxonomy()` yields None and the
callers say to run `mercato taxonomy load`, which downloads Google's newest file or
another locale whenever the network allows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from mercato.modules.channels.models import GoogleProductCategory
from mercato.modules.channels.taxonomy.store import TaxonomyLoad, load_taxonomy_file

BUNDLED_FILE = "taxonomy-with-ids.en-US.txt.gz"


@contextmanager
def bundled_taxonomy() -> Iterator[Path | None]:
    """A path to the shipped taxonomy for the duration of the block, or None."""
    resource = files(__package__ or __name__).joinpath("data", BUNDLED_FILE)
    if not resource.is_file():
        yield None
        return
    with as_file(resource) as path:
        yield path


async def load_bundled_if_empty(owner_url: str) -> TaxonomyLoad | None:
    """Load the shipped taxonomy when the table has no category yet (a fresh install);
    None when there is something already or nothing is shipped."""
    engine = create_async_engine(owner_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(GoogleProductCategory))
    finally:
        await engine.dispose()
    if count:
        return None
    with bundled_taxonomy() as path:
        if path is None:
            return None
        return await load_taxonomy_file(owner_url, path)
