"""Platform operators for tests: created through the same service `create-admin` uses."""

from __future__ import annotations

import psycopg
import pytest

from mercato.kernel.db import get_database
from mercato.modules.identity import grant_platform_admin
from tests.factories import PASSWORD, Staff, unique_email


async def make_operator(client) -> Staff:
    email = unique_email("operator")
    async with get_database().session() as session:
        granted = await grant_platform_admin(session, email=email, password=PASSWORD, name="Ops")
    tokens = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return Staff(str(granted.user_id), email, PASSWORD, body["access_token"], body["refresh_token"])


@pytest.fixture
async def operator(client) -> Staff:
    return await make_operator(client)


def tenant_row_counts(owner_dsn: str, tenant_id: str) -> dict[str, int]:
    """Rows of `tenant_id` in every table with a tenant_id column (the owner sees all)."""
    with psycopg.connect(owner_dsn) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM platform_tenant_tables()")]
        return {
            table: conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE tenant_id = %s', (tenant_id,)
            ).fetchone()[0]
            for table in tables
        }
