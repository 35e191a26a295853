"""`mercato import products`: CSV and JSON lines, bad rows reported, resumable by chunk."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.kernel.errors import NotFound
from mercato.modules.catalog.export import CSV_COLUMNS, csv_cells
from mercato.modules.catalog.importer import import_file
from mercato.modules.identity import resolve_tenant
from tests.modules.catalog.factories import open_shop, product_body


def _lines(count: int, bad: set[int] = frozenset()) -> list[str]:
    lines = []
    for i in range(count):
        body = {"product_id": f"imp-{i}", **product_body(name=f"Lamp {i}")}
        if i in bad:
            body["currency"] = "???"
        lines.append(json.dumps(body))
    return lines


async def _count(tenant_id: str) -> int:
    async with get_database().tenant_session(uuid.UUID(tenant_id)) as session:
        return int(await session.scalar(text("SELECT count(*) FROM product")) or 0)


async def test_jsonl_import_reports_bad_rows_and_keeps_the_rest(client, tmp_path) -> None:
    shop = await open_shop(client)
    path = tmp_path / "products.jsonl"
    path.write_text("\n".join([*_lines(7, bad={2}), "{not json"]) + "\n")
    report = await import_file(get_database(), uuid.UUID(shop.tenant_id), path, chunk_size=3)
    assert report.created == 6
    assert [f.index for f in report.failures] == [2, 7]
    assert report.rejected_file is not None
    assert report.rejected_file.exists()
    assert await _count(shop.tenant_id) == 6


async def test_resume_skips_the_chunks_that_committed(client, tmp_path, monkeypatch) -> None:
    from mercato.modules.catalog import importer

    shop = await open_shop(client)
    tenant_id = uuid.UUID(shop.tenant_id)
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(_lines(10)) + "\n")
    original = importer.write_chunk
    calls = 0

    async def crash_on_third_chunk(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return await original(*args, **kwargs)

    monkeypatch.setattr(importer, "write_chunk", crash_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        await import_file(get_database(), tenant_id, path, chunk_size=3)
    assert await _count(shop.tenant_id) == 6
    monkeypatch.setattr(importer, "write_chunk", original)
    report = await import_file(get_database(), tenant_id, path, chunk_size=3, resume=True)
    assert (report.chunks_skipped, report.chunks_written) == (2, 2)
    assert report.created == 4
    assert await _count(shop.tenant_id) == 10


async def test_an_exported_csv_imports_back(client, tmp_path) -> None:
    shop = await open_shop(client)
    path = tmp_path / "products.csv"
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        document = {"product_id": "csv-1", **product_body(additional_image_urls=[])}
        writer.writerow(csv_cells(document))
    report = await import_file(get_database(), uuid.UUID(shop.tenant_id), path)
    assert (report.created, report.failures) == (1, [])


async def test_the_tenant_is_found_by_id_or_slug(client) -> None:
    shop = await open_shop(client)
    slug = (await client.get(shop.base, headers=shop.owner.headers)).json()["slug"]
    database = get_database()
    assert str(await resolve_tenant(database, slug)) == shop.tenant_id
    assert str(await resolve_tenant(database, shop.tenant_id)) == shop.tenant_id
    with pytest.raises(NotFound):
        await resolve_tenant(database, "no-such-shop")


def test_the_cli_refuses_a_missing_file_before_touching_the_database(tmp_path) -> None:
    from typer.testing import CliRunner

    from mercato.cli import app

    result = CliRunner().invoke(
        app, ["import", "products", str(tmp_path / "nope.csv"), "--tenant", "demo"]
    )
    assert result.exit_code == 2
    assert "Error" in result.output
