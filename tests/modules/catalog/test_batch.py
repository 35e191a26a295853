"""Batch upserts and the CSV export: bad rows never cost good ones."""

from __future__ import annotations

import csv
import io

from mercato.modules.catalog.importer import read_records
from tests.modules.catalog.factories import open_shop, product_body


def _item(pid: str, **overrides) -> dict:
    return {"product_id": pid, **product_body(**overrides)}


async def test_batch_keeps_good_rows_and_reports_bad_ones_by_index(client) -> None:
    shop = await open_shop(client)
    items = [
        _item("a"),
        _item("b", price="not money"),
        _item("c", category="Garden > Pots"),
        {"name": "no id", "price": "1", "currency": "EUR"},
        _item("d", gtin="1234567890123"),
    ]
    response = await client.post(
        f"{shop.base}/products/batch", json={"products": items}, headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"]) == (2, 0)
    failed = {f["index"]: f for f in result["failed"]}
    assert set(failed) == {1, 3, 4}
    assert failed[1]["errors"][0]["field"] == "price"
    assert failed[3]["errors"][0]["field"] == "product_id"
    assert failed[4]["errors"][0]["field"] == "gtin"
    again = await client.post(
        f"{shop.base}/products/batch",
        json={"products": [_item("a", price="5.00"), _item("e")]},
        headers=shop.owner.headers,
    )
    assert (again.json()["created"], again.json()["updated"]) == (1, 1)
    fetched = await client.get(f"{shop.base}/products/a", headers=shop.owner.headers)
    assert fetched.json()["price"] == "5.00"


async def test_a_repeated_product_id_keeps_the_last_row(client) -> None:
    shop = await open_shop(client)
    response = await client.post(
        f"{shop.base}/products/batch",
        json={"products": [_item("x", name="First"), _item("x", name="Second")]},
        headers=shop.owner.headers,
    )
    result = response.json()
    assert result["created"] == 1
    assert result["failed"][0]["index"] == 0
    fetched = await client.get(f"{shop.base}/products/x", headers=shop.owner.headers)
    assert fetched.json()["name"] == "Second"


async def test_a_row_the_database_rejects_does_not_lose_its_chunk(client, monkeypatch) -> None:
    """Force one chunk to fail in PostgreSQL: it is retried row by row."""
    from sqlalchemy import text

    from mercato.modules.catalog import upsert

    shop = await open_shop(client)
    original = upsert.upsert_prepared

    async def fragile(session, tenant_id, prepared):
        if '"poison"' in prepared.document:
            await session.execute(text("SELECT 1/0"))
        return await original(session, tenant_id, prepared)

    monkeypatch.setattr("mercato.modules.catalog.batch.upsert_prepared", fragile)
    response = await client.post(
        f"{shop.base}/products/batch",
        json={"products": [_item("ok-1"), _item("poison"), _item("ok-2")]},
        headers=shop.owner.headers,
    )
    result = response.json()
    assert result["created"] == 2
    assert [f["index"] for f in result["failed"]] == [1]
    assert (
        await client.get(f"{shop.base}/products/ok-2", headers=shop.owner.headers)
    ).status_code == 200


async def test_more_than_ten_thousand_items_is_422(client) -> None:
    shop = await open_shop(client)
    response = await client.post(
        f"{shop.base}/products/batch",
        json={"products": [{}] * 10_001},
        headers=shop.owner.headers,
    )
    assert response.status_code == 422


async def test_export_streams_every_live_product_as_csv(client) -> None:
    shop = await open_shop(client)
    items = [_item(f"p{i:03d}", attributes={"n": i}) for i in range(25)]
    await client.post(
        f"{shop.base}/products/batch", json={"products": items}, headers=shop.owner.headers
    )
    await client.delete(f"{shop.base}/products/p003", headers=shop.owner.headers)
    response = await client.get(f"{shop.base}/products/export.csv", headers=shop.owner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 24
    assert rows[0]["product_id"] == "p000"
    assert rows[0]["price"] == "129.90"
    assert rows[5]["attributes"] == '{"n": 6}'  # p003 is deleted


async def test_export_cells_never_start_a_formula_and_import_back_unchanged(
    client, tmp_path
) -> None:
    shop = await open_shop(client)
    hostile = {
        "name": '=HYPERLINK("https://evil.example","Invoice")',
        "brand": "+1-555",
        "mpn": "-2",
        "description": "@SUM(A1:A9)",
        "item_group_id": "'quoted",
    }
    created = await client.put(
        f"{shop.base}/products/hostile",
        json=product_body(**hostile),
        headers=shop.owner.headers,
    )
    assert created.status_code in (200, 201), created.text
    exported = await client.get(f"{shop.base}/products/export.csv", headers=shop.owner.headers)
    (row,) = [r for r in csv.DictReader(io.StringIO(exported.text)) if r["product_id"] == "hostile"]
    for field, value in hostile.items():
        assert row[field] == "'" + value, field
    # The export reads back in (`mercato import products`) as the text the merchant wrote.
    path = tmp_path / "products.csv"
    path.write_text(exported.text, encoding="utf-8")
    (record,) = [r for r in read_records(path) if r.body and r.body["product_id"] == "hostile"]
    assert {field: record.body[field] for field in hostile} == hostile
