"""Model versions and `GET {T}/recommendations`: fitted per tenant, loaded lazily,
cached in Redis and dropped from the cache when a newer version is announced."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from mercato.kernel.blobs import shared_blobs
from mercato.modules.recommendations import fit_tenant
from mercato.modules.recommendations.file_source import FileSource
from mercato.modules.recommendations.registry import ModelRegistry
from mercato.settings import get_settings
from tests.factories import create_tenant, signup_and_login

from .catalog_api import stock_the_catalog
from .shop import furniture, returning_shoppers


async def _stored(tenant: str, key: str | None) -> bool:
    """The version's model is a shared blob of the tenant (no file on this machine)."""
    assert key is not None
    return await shared_blobs().info(uuid.UUID(tenant), key) is not None


def _lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def shop_files(tmp_path: Path) -> FileSource:
    return FileSource(
        _lines(tmp_path / "events.jsonl", returning_shoppers()),
        _lines(tmp_path / "catalog.jsonl", furniture()),
    )


async def _tenant(client, *, stocked: bool = True):
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    if stocked:
        await stock_the_catalog(client, owner.headers, tenant, furniture())
    return owner, tenant, f"/api/v1/tenants/{tenant}/recommendations"


async def test_a_fit_is_versioned_and_skipped_when_nothing_changed(client, shop_files) -> None:
    _, tenant, _ = await _tenant(client)
    first = await fit_tenant(uuid.UUID(tenant), shop_files)
    assert first.version == 1
    assert not first.skipped
    assert first.products == 10
    assert first.users == 30
    assert await _stored(tenant, first.model_key)
    assert not (get_settings().data_dir / "models").exists()
    again = await fit_tenant(uuid.UUID(tenant), shop_files)
    assert again.skipped
    assert again.version == 1
    forced = await fit_tenant(uuid.UUID(tenant), shop_files, force=True)
    assert forced.version == 2
    assert not forced.skipped


async def test_old_versions_are_pruned(client, shop_files) -> None:
    _, tenant, _ = await _tenant(client)
    outcomes = [
        await fit_tenant(uuid.UUID(tenant), shop_files, force=True, keep=2) for _ in range(3)
    ]
    assert [outcome.version for outcome in outcomes] == [1, 2, 3]
    assert not await _stored(tenant, outcomes[0].model_key)
    assert await _stored(tenant, outcomes[2].model_key)


async def test_a_shop_without_a_model_or_events_answers_its_products_in_stock(client) -> None:
    owner, tenant, url = await _tenant(client)
    sold_out = await client.patch(
        f"/api/v1/tenants/{tenant}/products/oak-chair",
        json={"available": False},
        headers=owner.headers,
    )
    assert sold_out.status_code == 200
    await drop_cached_lists_now(tenant)
    response = await client.get(url, params={"user_id": "anyone"}, headers=owner.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["strategy"], body["model_version"], body["fallback"]) == ("auto", None, "popular")
    shown = [item["product_id"] for item in body["data"]]
    assert len(shown) == 9  # the ten products but the one sold out
    assert "oak-chair" not in shown


async def test_a_shop_without_products_answers_an_empty_list(client) -> None:
    owner, _, url = await _tenant(client, stocked=False)
    response = await client.get(url, params={"user_id": "anyone"}, headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == {
        "data": [],
        "strategy": "auto",
        "experiment_id": None,
        "variant": None,
        "model_version": None,
        "fallback": "popular",
    }


async def test_recommendations_come_from_the_newest_model(client, shop_files) -> None:
    owner, tenant, url = await _tenant(client)
    await fit_tenant(uuid.UUID(tenant), shop_files)
    response = await client.get(
        url, params={"user_id": "chairs-1", "limit": 3}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["strategy"] == "auto"
    assert body["model_version"] == 1
    assert 0 < len(body["data"]) <= 3
    for item in body["data"]:
        assert set(item) >= {"product_id", "name", "price", "image_url", "score", "reason"}
        assert item["name"]
        assert item["reason"]


async def test_each_strategy_can_be_asked_for_by_name(client, shop_files) -> None:
    owner, tenant, url = await _tenant(client)
    await fit_tenant(uuid.UUID(tenant), shop_files)
    for strategy in ("collaborative", "content_based", "trending", "frequently_bought_together"):
        response = await client.get(
            url,
            params={"product_id": "oak-chair", "strategy": strategy},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["strategy"] == strategy
        assert "oak-chair" not in [item["product_id"] for item in body["data"]]
    unknown = await client.get(url, params={"strategy": "random"}, headers=owner.headers)
    assert unknown.status_code == 422


async def test_excluded_products_never_come_back(client, shop_files) -> None:
    owner, tenant, url = await _tenant(client)
    await fit_tenant(uuid.UUID(tenant), shop_files)
    params = {"product_id": "grey-sofa", "limit": 5}
    shown = [
        item["product_id"]
        for item in (await client.get(url, params=params, headers=owner.headers)).json()["data"]
    ]
    assert shown
    again = await client.get(
        url, params={**params, "exclude": ",".join(shown[:2])}, headers=owner.headers
    )
    assert not set(shown[:2]) & {item["product_id"] for item in again.json()["data"]}


async def test_lists_are_cached_until_a_new_model_version(client, shop_files) -> None:
    from mercato.kernel.redis import get_redis, tenant_key

    owner, tenant, url = await _tenant(client)
    await fit_tenant(uuid.UUID(tenant), shop_files)
    params = {"user_id": "sofas-2", "placement": "home"}
    first = await client.get(url, params=params, headers=owner.headers)
    cached = [key async for key in get_redis().scan_iter(tenant_key(tenant, "reco", "list", "*"))]
    assert len(cached) == 1
    assert (await client.get(url, params=params, headers=owner.headers)).content == first.content
    await fit_tenant(uuid.UUID(tenant), shop_files, force=True)
    after = await client.get(url, params=params, headers=owner.headers)
    assert after.json()["model_version"] == 2
    assert first.json()["model_version"] == 1


async def test_the_registry_keeps_a_bounded_number_of_models(client, shop_files) -> None:
    from mercato.kernel.db import get_database

    tenants = [uuid.UUID((await _tenant(client, stocked=False))[1]) for _ in range(3)]
    for tenant in tenants:
        await fit_tenant(tenant, shop_files)
    registry = ModelRegistry(capacity=2)
    for tenant in tenants:
        async with get_database().tenant_session(tenant) as session:
            loaded = await registry.get(session, tenant)
        assert loaded is not None
        assert loaded.version == 1
    assert len(registry) == 2


async def test_a_catalog_change_makes_cached_lists_stale(client, shop_files) -> None:
    from mercato.kernel.events import subscribers
    from mercato.modules.recommendations.cache import current_generation
    from mercato.modules.recommendations.jobs import drop_cached_lists

    for event in ("product.created", "product.updated", "product.deleted"):
        assert "mercato.modules.recommendations.jobs.drop_cached_lists" in subscribers(event)
    _, tenant, _ = await _tenant(client)
    before = await current_generation(uuid.UUID(tenant))
    await drop_cached_lists(uuid.UUID(tenant), {"product_ids": ["oak-chair"]})
    assert await current_generation(uuid.UUID(tenant)) == (before or 0) + 1


async def test_products_the_catalog_no_longer_offers_are_dropped(client, shop_files) -> None:
    owner, tenant, url = await _tenant(client)
    await fit_tenant(uuid.UUID(tenant), shop_files)
    params = {"product_id": "oak-chair", "limit": 4, "strategy": "content_based"}
    shown = [
        item["product_id"]
        for item in (await client.get(url, params=params, headers=owner.headers)).json()["data"]
    ]
    assert len(shown) >= 2
    products = f"/api/v1/tenants/{tenant}/products"
    sold_out = await client.patch(
        f"{products}/{shown[0]}", json={"available": False}, headers=owner.headers
    )
    assert sold_out.status_code == 200
    assert (await client.delete(f"{products}/{shown[1]}", headers=owner.headers)).status_code == 204
    await drop_cached_lists_now(tenant)
    again = await client.get(url, params=params, headers=owner.headers)
    remaining = [item["product_id"] for item in again.json()["data"]]
    assert shown[0] not in remaining
    assert shown[1] not in remaining


async def drop_cached_lists_now(tenant: str) -> None:
    """What the worker does on `product.*` events, run inline (the suite runs no worker)."""
    from mercato.modules.recommendations.jobs import drop_cached_lists

    await drop_cached_lists(uuid.UUID(tenant), {})


async def test_a_version_whose_blob_is_missing_is_refitted_not_served(client, shop_files) -> None:
    """As a version indexed before models were shared blobs: its file was on one machine."""
    from mercato.kernel.db import get_database

    _, tenant, _ = await _tenant(client)
    tenant_id = uuid.UUID(tenant)
    first = await fit_tenant(tenant_id, shop_files)
    assert first.model_key is not None
    assert await shared_blobs().delete(tenant_id, [first.model_key]) == 1
    async with get_database().tenant_session(tenant_id) as session:
        assert await ModelRegistry(capacity=1).get(session, tenant_id) is None
    again = await fit_tenant(tenant_id, shop_files)  # same data, yet not skipped
    assert (again.skipped, again.version) == (False, 2)
    async with get_database().tenant_session(tenant_id) as session:
        loaded = await ModelRegistry(capacity=1).get(session, tenant_id)
    assert loaded is not None
    assert loaded.version == 2
