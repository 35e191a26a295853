"""`mercato taxonomy load [FILE | --url URL | --locale L | --bundled]`: put Google's
product taxonomy in the database.

With no argument the command downloads Google's newest published file
(`MERCATO_GOOGLE_TAXONOMY_URL`, en-US; `--locale de-DE` asks for another language),
streaming it to a temporary file under the data directory, then loads it with a progress
bar. `--bundled` loads the copy shipped with Mercato (no network; see `bundled.py`),
which `mercato migrate` also loads into an empty table. A FILE may be plain or `.gz`.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from mercato.kernel import egress
from mercato.modules.channels.taxonomy.file_format import TaxonomyFormatError
from mercato.settings import Settings, get_settings

if TYPE_CHECKING:
    from mercato.modules.channels.taxonomy.store import TaxonomyLoad

taxonomy_app = typer.Typer(
    help="Google's product taxonomy: the reference for category alignment and feeds.",
    no_args_is_help=True,
)
console = Console(stderr=True)
DOWNLOAD_TIMEOUT_S = 120.0
DOWNLOAD_MAX_BYTES = 20 * 1_048_576  # Google's file is under 1 MB
LOCALE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")


async def _download(url: str, destination: Path) -> None:
    async with (
        egress.http_client(
            timeout_s=DOWNLOAD_TIMEOUT_S,
            follow_redirects=True,
            max_response_bytes=DOWNLOAD_MAX_BYTES,
        ) as http,
        http.stream("GET", url) as response,
    ):
        if response.status_code != 200:
            raise typer.BadParameter(f"{url} answered {response.status_code}")
        length = response.headers.get("content-length")
        with (
            Progress(
                TextColumn("downloading"), BarColumn(), DownloadColumn(), console=console
            ) as progress,
            destination.open("wb") as out,
        ):
            task = progress.add_task("download", total=int(length) if length else None)
            async for chunk in response.aiter_bytes():
                out.write(chunk)
                progress.advance(task, len(chunk))


def locale_url(url: str, locale: str) -> str:
    """Google's file for `locale` (its URLs differ only in the locale before `.txt`)."""
    if not LOCALE.fullmatch(locale):
        raise typer.BadParameter(f"{locale!r} is not a locale like en-US or de-DE")
    return re.sub(r"\.[a-z]{2,3}-[A-Z]{2}\.txt$", f".{locale}.txt", url)


@contextmanager
def _shipped() -> Iterator[Path]:
    from mercato.modules.channels.taxonomy.bundled import bundled_taxonomy

    with bundled_taxonomy() as path:
        if path is None:
            raise typer.BadParameter("this build ships no taxonomy; load a FILE or download it")
        yield path


async def _load(settings: Settings, file: Path | None, url: str) -> TaxonomyLoad:
    from mercato.kernel.db import resolve_urls
    from mercato.modules.channels.taxonomy.store import count_categories, load_taxonomy_file

    owner_url = resolve_urls(settings).owner
    with tempfile.TemporaryDirectory(dir=_scratch_dir(settings)) as scratch:
        path = file
        if path is None:
            path = Path(scratch) / "taxonomy-with-ids.txt"
            await _download(url, path)
        with Progress(
            TextColumn("loading categories"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("load", total=count_categories(path))
            return await load_taxonomy_file(
                owner_url, path, lambda rows: progress.advance(task, rows)
            )


def _scratch_dir(settings: Settings) -> Path:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.data_dir


@taxonomy_app.command("load")
def load(
    file: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, help="A taxonomy-with-ids file on disk"),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Download from here (default: Google's file)")
    ] = None,
    locale: Annotated[
        str | None, typer.Option("--locale", help="Download Google's file in this locale")
    ] = None,
    bundled: Annotated[
        bool, typer.Option("--bundled", help="Load the copy shipped with Mercato")
    ] = False,
) -> None:
    """Load (or reload) the taxonomy; categories Google retired are removed."""
    if sum(given is not None for given in (file, url, locale)) + bundled > 1:
        raise typer.BadParameter("give one of FILE, --url, --locale or --bundled")
    settings = get_settings()
    source = url or locale_url(settings.google_taxonomy_url, locale or "en-US")
    try:
        if bundled:
            with _shipped() as shipped:
                report = asyncio.run(_load(settings, shipped, source))
        else:
            report = asyncio.run(_load(settings, file, source))
    except TaxonomyFormatError as exc:
        console.print(f"[red]not a Google taxonomy file:[/red] {exc}")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        console.print(f"[red]download failed:[/red] {type(exc).__name__}: {exc}")
        console.print("without network, `mercato taxonomy load --bundled` loads the shipped copy")
        raise typer.Exit(1) from None
    console.print(
        f"[green]taxonomy {report.version}: {report.loaded} categories loaded"
        f", {report.removed} retired ones removed[/green]"
    )
