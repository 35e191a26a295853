"""`mercato taxonomy load`: from a file or a URL into the global table, all or nothing.

They read Google's file as the `taxonomy_file` fixture finds it (../shared/data, else the
copy shipped as package data); a `.gz` is served and written out as plain text."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
from starlette.applications import Starlette
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route
from typer.testing import CliRunner

from mercato.cli import app as cli
from mercato.modules.channels.taxonomy.file_format import open_taxonomy_text
from tests.fakes.server import serve

runner = CliRunner()


def _count(owner_dsn: str) -> tuple[int, str]:
    with psycopg.connect(owner_dsn) as conn:
        row = conn.execute(
            "SELECT count(*), max(version) FROM google_product_categories"
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _lines(taxonomy_file: Path) -> list[str]:
    with open_taxonomy_text(taxonomy_file) as text:
        return text.read().splitlines()


def _plain(taxonomy_file: Path, tmp_path: Path) -> Path:
    plain = tmp_path / "taxonomy-with-ids.txt"
    plain.write_text("\n".join(_lines(taxonomy_file)) + "\n", encoding="utf-8")
    return plain


async def _invoke(*args: str) -> tuple[int, str]:
    # The command runs its own event loop, so it runs in a thread beside the test's loop.
    result = await asyncio.to_thread(runner.invoke, cli, ["taxonomy", "load", *args])
    return result.exit_code, result.output


async def test_loading_a_file_is_idempotent(
    taxonomy_in_database, owner_dsn, taxonomy_file: Path
) -> None:
    code, output = await _invoke(str(taxonomy_file))
    assert code == 0, output
    assert "5595 categories loaded, 0 retired ones removed" in output
    assert _count(owner_dsn) == (5595, "2021-09-21")


async def test_loading_from_a_url_streams_the_download(
    taxonomy_in_database, owner_dsn, taxonomy_file: Path, tmp_path: Path
) -> None:
    plain = _plain(taxonomy_file, tmp_path)

    async def taxonomy(_request: object) -> FileResponse:
        return FileResponse(plain, media_type="text/plain")

    async with serve(Starlette(routes=[Route("/taxonomy.txt", taxonomy)])) as url:
        code, output = await _invoke("--url", f"{url}/taxonomy.txt")
    assert code == 0, output
    assert "5595 categories loaded" in output
    assert _count(owner_dsn) == (5595, "2021-09-21")


async def test_a_broken_file_changes_nothing(
    taxonomy_in_database, owner_dsn, tmp_path: Path, taxonomy_file: Path
) -> None:
    lines = _lines(taxonomy_file)
    broken = tmp_path / "broken.txt"
    broken.write_text("\n".join([*lines[:100], "not a category line", *lines[100:]]) + "\n")
    code, output = await _invoke(str(broken))
    assert code == 1
    assert "line 101" in output
    assert _count(owner_dsn) == (5595, "2021-09-21")


async def test_a_failed_download_is_reported(taxonomy_in_database) -> None:
    async def gone(_request: object) -> PlainTextResponse:
        return PlainTextResponse("gone", status_code=410)

    async with serve(Starlette(routes=[Route("/taxonomy.txt", gone)])) as url:
        code, output = await _invoke("--url", f"{url}/taxonomy.txt")
    assert code != 0
    assert "410" in output


async def test_categories_google_retired_are_removed_on_reload(
    taxonomy_in_database, owner_dsn, tmp_path: Path, taxonomy_file: Path
) -> None:
    lines = _lines(taxonomy_file)
    older = tmp_path / "older.txt"
    older.write_text("\n".join(lines[:5001]) + "\n")  # the header and 5,000 categories
    try:
        code, output = await _invoke(str(older))
        assert code == 0, output
        assert "5000 categories loaded, 595 retired ones removed" in output
        assert _count(owner_dsn)[0] == 5000
    finally:
        code, output = await _invoke(str(taxonomy_file))
    assert code == 0, output
    assert _count(owner_dsn) == (5595, "2021-09-21")
