"""The feed over HTTP, over real catalog products: the precheck catches each planted defect
and passes clean items; the hosted feed holds exactly the valid items, is conditional
(ETag / Last-Modified) and lives at a rotatable, unguessable address."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

import pytest

from mercato.kernel.redis import get_redis
from mercato.modules.channels.feeds import hosted_feed
from tests.factories import add_member, create_tenant, signup_and_login
from tests.modules.channels.shop import (
    DEFECTS,
    SOFAS_GOOGLE_ID,
    VALID,
    Shop,
    build_shop,
)
from tests.modules.integrations.fakes import patched_settings

G = "{http://base.google.com/ns/1.0}"


@pytest.fixture
def uncached():
    """Render the feed on every fetch, to watch its content-derived ETag move."""
    with patched_settings(hosted_feed_cache_ttl_s="0"):
        yield


@pytest.fixture
async def shop(client, taxonomy_in_database) -> Shop:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner, name="Nordhus & Co")
    return await build_shop(client, tenant, owner)


class TestPrecheck:
    async def test_each_planted_defect_is_caught_and_clean_items_pass(self, client, shop) -> None:
        response = await client.post(shop.url("/feed/precheck"), headers=shop.owner.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["checked"], body["valid"], body["invalid"]) == (9, 4, 5)
        errors = {
            (i["product_id"], i["attribute"], i["code"])
            for i in body["issues"]
            if i["severity"] == "error"
        }
        assert errors == {(pid, attr, code) for pid, (attr, code) in DEFECTS.items()}
        [unaligned] = [i for i in body["issues"] if i["product_id"] == "unaligned"]
        assert unaligned["severity"] == "warning"
        assert unaligned["code"] == "unaligned_category"
        assert unaligned["attribute"] == "google_product_category"
        assert {"product_id", "attribute", "severity", "message", "code"} == set(unaligned)
        clean_issues = [i for i in body["issues"] if i["product_id"].startswith("clean")]
        assert clean_issues == []

    async def test_a_subset_by_id_and_unknown_ids_reported(self, client, shop) -> None:
        response = await client.post(
            shop.url("/feed/precheck"),
            json={"product_ids": ["clean-1", "free", "ghost"]},
            headers=shop.owner.headers,
        )
        body = response.json()
        assert (body["checked"], body["valid"], body["invalid"]) == (3, 1, 2)
        codes = {(i["product_id"], i["code"]) for i in body["issues"]}
        assert codes == {("free", "price_not_positive"), ("ghost", "unknown_product")}

    async def test_a_viewer_may_check(self, client, shop) -> None:
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        response = await client.post(shop.url("/feed/precheck"), headers=viewer.headers)
        assert response.status_code == 200


async def feed_paths(client, shop: Shop) -> tuple[str, str]:
    response = await client.get(shop.url("/feed/settings"), headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    xml_url, tsv_url = urlparse(body["feed_url"]), urlparse(body["tsv_url"])
    assert body["feed_url"].startswith("http://127.0.0.1:8000/feeds/")
    assert xml_url.path.endswith(".xml")
    assert tsv_url.path == xml_url.path.removesuffix(".xml") + ".tsv"
    return xml_url.path, tsv_url.path


class TestHostedFeed:
    async def test_the_xml_parses_and_holds_exactly_the_valid_items(self, client, shop) -> None:
        xml_path, _ = await feed_paths(client, shop)
        response = await client.get(xml_path)  # no credentials: the token is the credential
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/rss+xml")
        root = ET.fromstring(response.content)
        assert root.tag == "rss"
        assert root.get("version") == "2.0"
        channel = root.find("channel")
        assert channel is not None
        assert channel.findtext("title") == "Nordhus & Co"
        items = {item.findtext(f"{G}id"): item for item in channel.findall("item")}
        assert sorted(items) == sorted(VALID)
        sofa = items["clean-1"]
        assert sofa.findtext(f"{G}google_product_category") == str(SOFAS_GOOGLE_ID)
        assert sofa.findtext(f"{G}price") == "899.00 EUR"
        assert sofa.findtext(f"{G}availability") == "in_stock"
        assert sofa.findtext("link") == "https://shop.example.com/p/clean-1"
        assert items["unaligned"].find(f"{G}google_product_category") is None

    async def test_the_tsv_has_a_header_and_one_row_per_valid_item(self, client, shop) -> None:
        _, tsv_path = await feed_paths(client, shop)
        response = await client.get(tsv_path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/tab-separated-values")
        rows = list(csv.DictReader(io.StringIO(response.text), delimiter="\t"))
        assert sorted(row["id"] for row in rows) == sorted(VALID)

    async def test_conditional_requests_get_304_until_the_products_change(
        self, client, shop, uncached
    ) -> None:
        xml_path, _ = await feed_paths(client, shop)
        first = await client.get(xml_path)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert etag.startswith('"')
        same = await client.get(xml_path, headers={"If-None-Match": etag})
        assert same.status_code == 304
        assert same.content == b""
        since = await client.get(xml_path, headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        again = await client.get(xml_path)
        assert again.headers["etag"] == etag
        assert again.content == first.content
        renamed = await client.patch(
            shop.url("/products/clean-2"),
            json={"name": "Oslo sofa, new"},
            headers=shop.owner.headers,
        )
        assert renamed.status_code == 200
        changed = await client.get(xml_path, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        assert b"Oslo sofa, new" in changed.content

    async def test_a_fetch_renders_once_and_repeats_come_from_the_tenants_cache(
        self, client, shop, monkeypatch
    ) -> None:
        renders: list[str] = []
        real_render = hosted_feed._render

        async def counted(session, tenant_id, feed_format):
            renders.append(f"{tenant_id}:{feed_format}")
            return await real_render(session, tenant_id, feed_format)

        monkeypatch.setattr(hosted_feed, "_render", counted)
        xml_path, _ = await feed_paths(client, shop)
        first = await client.get(xml_path)
        assert first.status_code == 200
        assert renders == [f"{shop.tenant}:xml"]  # once, not once for the ETag and once more
        etag = first.headers["etag"]
        repeats = [
            await client.get(xml_path),
            await client.get(xml_path, headers={"If-None-Match": etag}),
            await client.head(xml_path),
        ]
        assert [r.status_code for r in repeats] == [200, 304, 200]
        assert repeats[0].content == first.content
        assert len(renders) == 1
        key = f"mercato:{{{shop.tenant}}}:hosted-feed:xml"
        assert 0 < await get_redis().ttl(key) <= 300
        # Kept for the TTL: a change shows once the entry lapses.
        await client.patch(
            shop.url("/products/clean-2"),
            json={"name": "Oslo sofa, v3"},
            headers=shop.owner.headers,
        )
        assert b"Oslo sofa, v3" not in (await client.get(xml_path)).content
        await get_redis().delete(key)
        assert b"Oslo sofa, v3" in (await client.get(xml_path)).content
        assert len(renders) == 2

    async def test_head_answers_the_headers_without_a_body(self, client, shop) -> None:
        xml_path, _ = await feed_paths(client, shop)
        full = await client.get(xml_path)
        head = await client.head(xml_path)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == full.headers["etag"]

    async def test_rotating_the_token_retires_the_old_address(self, client, shop) -> None:
        old_path, _ = await feed_paths(client, shop)
        rotated = await client.post(shop.url("/feed/settings/rotate"), headers=shop.owner.headers)
        assert rotated.status_code == 200
        new_path = urlparse(rotated.json()["feed_url"]).path
        assert new_path != old_path
        assert (await client.get(old_path)).status_code == 404
        assert (await client.get(new_path)).status_code == 200
        assert (await feed_paths(client, shop))[0] == new_path

    async def test_unknown_tokens_are_404_and_tenants_see_only_their_feed(
        self, client, shop
    ) -> None:
        assert (await client.get("/feeds/" + "A" * 43 + ".xml")).status_code == 404
        assert (await client.get("/feeds/short.xml")).status_code == 404
        other_owner = await signup_and_login(client)
        other = await create_tenant(client, other_owner)
        other_shop = Shop(other, other_owner, {})
        path, _ = await feed_paths(client, other_shop)
        channel = ET.fromstring((await client.get(path)).content).find("channel")
        assert channel is not None
        assert channel.findall("item") == []

    async def test_only_writers_rotate(self, client, shop) -> None:
        viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
        assert (
            await client.get(shop.url("/feed/settings"), headers=viewer.headers)
        ).status_code == 200
        rotate = await client.post(shop.url("/feed/settings/rotate"), headers=viewer.headers)
        assert rotate.status_code == 403

    async def test_the_address_survives_a_rotation_of_the_server_secret(
        self, client, shop, monkeypatch
    ) -> None:
        from mercato.settings import get_settings

        xml_path, _ = await feed_paths(client, shop)
        old_secret = get_settings().secret_key.get_secret_value()
        monkeypatch.setenv("MERCATO_SECRET_KEY", "rotated-" + "y" * 40)
        monkeypatch.setenv("MERCATO_PREVIOUS_SECRET_KEYS", old_secret)
        get_settings.cache_clear()
        try:
            assert (await feed_paths(client, shop))[0] == xml_path
            assert (await client.get(xml_path)).status_code == 200
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
