"""`mercato export tenant` and `mercato create-admin`, run as an operator would."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from typer.testing import CliRunner

from mercato.cli import app as cli
from mercato.kernel.blobs import shared_blobs
from tests.factories import (
    PASSWORD,
    add_member,
    create_api_key,
    create_tenant,
    signup_and_login,
    unique_email,
)

runner = CliRunner()


async def _bytes(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_tenant_export_holds_all_of_its_rows_and_nothing_else(
    client, tmp_path: Path
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    member = await add_member(client, owner, tenant, "viewer")
    await create_api_key(client, owner, tenant)
    await client.post(
        f"/api/v1/tenants/{tenant}/feedback",
        json={"rating": 5, "category": "export", "comment": "Grüße"},
        headers=owner.headers,
    )
    other_owner = await signup_and_login(client)
    other = await create_tenant(client, other_owner)
    await client.post(
        f"/api/v1/tenants/{other}/feedback",
        json={"rating": 1, "category": "secret-of-other"},
        headers=other_owner.headers,
    )
    slug = (await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)).json()["slug"]
    await shared_blobs().put(uuid.UUID(tenant), "catalog/uploads/x.csv", _bytes(b"id\n1\n"))

    out = tmp_path / "export.jsonl.gz"
    result = runner.invoke(cli, ["export", "tenant", slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with gzip.open(out, "rt", encoding="utf-8") as archive:
        text = archive.read()
    lines = [json.loads(line) for line in text.splitlines()]
    header, rows = lines[0], lines[1:]
    assert header["format"] == "mercato-tenant-export"
    assert header["tenant"]["id"] == tenant
    by_table: dict[str, list[dict]] = {}
    for line in rows:
        by_table.setdefault(line["table"], []).append(line["row"])
    assert {t: len(r) for t, r in by_table.items()} == {
        t: n for t, n in header["tables"].items() if n
    }
    assert all(
        row["tenant_id"] == tenant for t, r in by_table.items() if t != "staff_user" for row in r
    )
    assert [f["comment"] for f in by_table["feedback"]] == ["Grüße"]
    assert {u["email"] for u in by_table["staff_user"]} == {owner.email, member.email}
    assert "password_hash" not in by_table["staff_user"][0]
    assert "key_hash" not in by_table["api_key"][0]
    assert "key_hash" in header["excluded_columns"]["api_key"]
    assert [b["key"] for b in by_table["shared_blob"]] == ["catalog/uploads/x.csv"]
    assert "data" not in by_table["shared_blob_chunk"][0]  # blob bytes stay out
    assert header["excluded_columns"]["shared_blob_chunk"] == ["data"]
    assert "secret-of-other" not in text

    missing = runner.invoke(cli, ["export", "tenant", "no-such-shop", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 1


def test_create_admin_creates_then_promotes(tmp_path: Path) -> None:
    email = unique_email("ops")
    created = runner.invoke(cli, ["create-admin", "--email", email])
    assert created.exit_code == 0, created.output
    assert "created" in created.output
    assert "password (shown once)" in created.output
    promoted = runner.invoke(cli, ["create-admin", "--email", email, "--password", PASSWORD])
    assert promoted.exit_code == 0, promoted.output
    assert "promoted" in promoted.output
    weak = runner.invoke(cli, ["create-admin", "--email", unique_email(), "--password", "short"])
    assert weak.exit_code == 2


async def test_a_promoted_staff_member_becomes_an_operator(client) -> None:
    staff = await signup_and_login(client)
    denied = await client.get("/api/v1/platform/tenants", headers=staff.headers)
    assert denied.status_code == 403
    result = await asyncio.to_thread(
        runner.invoke, cli, ["create-admin", "--email", staff.email.upper()]
    )
    assert result.exit_code == 0, result.output
    assert "password (shown once)" not in result.output  # an existing account keeps its own
    tokens = await client.post(
        "/api/v1/auth/login", json={"email": staff.email, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    assert (await client.get("/api/v1/platform/tenants", headers=headers)).status_code == 200
