"""Content pages over HTTP: CRUD, revisions, scheduled publishing and the storefront read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import add_member, create_api_key, create_tenant, signup_and_login

ORIGIN = "https://shop.example"


async def _create(client, tenant: str, headers: dict[str, str], **body) -> dict:
    response = await client.post(f"/api/v1/tenants/{tenant}/pages", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _storefront(client, owner, tenant: str) -> dict[str, str]:
    key = await create_api_key(
        client, owner, tenant, kind="publishable", permission="read", allowed_origins=[ORIGIN]
    )
    return {"X-API-Key": key["key"], "Origin": ORIGIN}


async def test_a_page_is_created_rendered_read_listed_updated_and_deleted(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    base = f"/api/v1/tenants/{tenant}/pages"
    page = await _create(
        client,
        tenant,
        owner.headers,
        slug="shipping",
        title="Shipping",
        body="# Shipping\n\nWe ship **within 2 days**. See [returns](/pages/returns).",
        seo_title="Shipping and delivery",
        canonical_url="https://shop.example/shipping",
    )
    assert page["status"] == "draft"
    assert page["is_live"] is False
    assert page["revision"] == 1
    assert "<h1>Shipping</h1>" in page["html"]
    assert "<strong>within 2 days</strong>" in page["html"]
    assert '<a href="/pages/returns" rel="noopener noreferrer nofollow">returns</a>' in page["html"]
    assert page["canonical_url"] == "https://shop.example/shipping"

    read = await client.get(f"{base}/shipping", headers=owner.headers)
    assert read.json()["html"] == page["html"]
    await _create(client, tenant, owner.headers, slug="about", title="About us", body="Hi")
    listed = await client.get(base, params={"limit": 1}, headers=owner.headers)
    assert [p["slug"] for p in listed.json()["data"]] == ["about"]
    rest = await client.get(
        base, params={"limit": 1, "cursor": listed.json()["next_cursor"]}, headers=owner.headers
    )
    assert [p["slug"] for p in rest.json()["data"]] == ["shipping"]
    assert rest.json()["next_cursor"] is None

    updated = await client.patch(
        f"{base}/shipping",
        json={"body": "We ship *fast*.", "status": "published", "slug": "delivery"},
        headers=owner.headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["slug"] == "delivery"
    assert updated.json()["html"] == "<p>We ship <em>fast</em>.</p>\n"
    assert updated.json()["revision"] == 2
    assert updated.json()["is_live"] is True
    assert (await client.get(f"{base}/shipping", headers=owner.headers)).status_code == 404

    deleted = await client.delete(f"{base}/delivery", headers=owner.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{base}/delivery", headers=owner.headers)).status_code == 404
    audit = await client.get(
        f"/api/v1/tenants/{tenant}/audit-logs",
        params={"action": "content.page_deleted"},
        headers=owner.headers,
    )
    assert len(audit.json()["data"]) == 1


async def test_every_save_that_changes_something_adds_a_revision(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    manager = await add_member(client, owner, tenant, "manager")
    base = f"/api/v1/tenants/{tenant}/pages"
    await _create(client, tenant, owner.headers, slug="faq", title="FAQ", body="v1")
    await client.patch(f"{base}/faq", json={"body": "v2"}, headers=manager.headers)
    unchanged = await client.patch(f"{base}/faq", json={"body": "v2"}, headers=owner.headers)
    assert unchanged.json()["revision"] == 2
    await client.patch(f"{base}/faq", json={"title": "Questions"}, headers=owner.headers)

    revisions = await client.get(f"{base}/faq/revisions", headers=owner.headers)
    data = revisions.json()["data"]
    assert [r["revision"] for r in data] == [3, 2, 1]
    assert [r["page"]["body"] for r in data] == ["v2", "v2", "v1"]
    assert [r["page"]["title"] for r in data] == ["Questions", "FAQ", "FAQ"]
    assert data[1]["author"] == f"user:{manager.id}"
    first_page = await client.get(
        f"{base}/faq/revisions", params={"limit": 2}, headers=owner.headers
    )
    older = await client.get(
        f"{base}/faq/revisions",
        params={"limit": 2, "cursor": first_page.json()["next_cursor"]},
        headers=owner.headers,
    )
    assert [r["revision"] for r in older.json()["data"]] == [1]


async def test_a_taken_slug_is_a_409_and_a_bad_slug_a_422(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await _create(client, tenant, owner.headers, slug="about", title="About")
    await _create(client, tenant, owner.headers, slug="team", title="Team")
    base = f"/api/v1/tenants/{tenant}/pages"
    again = await client.post(base, json={"slug": "about", "title": "x"}, headers=owner.headers)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/slug-taken")
    renamed = await client.patch(f"{base}/team", json={"slug": "about"}, headers=owner.headers)
    assert renamed.status_code == 409
    bad = await client.post(base, json={"slug": "../etc", "title": "x"}, headers=owner.headers)
    assert bad.status_code == 422


async def test_storefronts_see_only_live_published_pages(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await _create(client, tenant, owner.headers, slug="draft", title="D", body="d")
    await _create(
        client, tenant, owner.headers, slug="live", title="L", body="**l**", status="published"
    )
    await _create(
        client,
        tenant,
        owner.headers,
        slug="past",
        title="P",
        status="published",
        publish_at=earlier,
    )
    await _create(
        client, tenant, owner.headers, slug="soon", title="S", status="published", publish_at=later
    )
    await _create(client, tenant, owner.headers, slug="old", title="O", status="archived")
    storefront = await _storefront(client, owner, tenant)
    public = f"/api/v1/tenants/{tenant}/public/pages"

    listed = await client.get(public, headers=storefront)
    assert [p["slug"] for p in listed.json()["data"]] == ["live", "past"]
    live = await client.get(f"{public}/live", headers=storefront)
    assert live.status_code == 200
    assert live.json()["html"] == "<p><strong>l</strong></p>\n"
    assert "body" not in live.json()
    for hidden in ("draft", "soon", "old", "missing"):
        response = await client.get(f"{public}/{hidden}", headers=storefront)
        assert response.status_code == 404, hidden
    scheduled = await client.get(f"/api/v1/tenants/{tenant}/pages/soon", headers=owner.headers)
    assert scheduled.json()["is_live"] is False
    # Staff tokens read pages through the staff routes; the public route is for keys.
    assert (await client.get(f"{public}/live", headers=owner.headers)).status_code == 403


async def test_required_fields_cannot_be_cleared(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await _create(client, tenant, owner.headers, slug="keep", title="Keep")
    response = await client.patch(
        f"/api/v1/tenants/{tenant}/pages/keep", json={"title": None}, headers=owner.headers
    )
    assert response.status_code == 422
    cleared_seo = await client.patch(
        f"/api/v1/tenants/{tenant}/pages/keep", json={"seo_title": None}, headers=owner.headers
    )
    assert cleared_seo.status_code == 200
