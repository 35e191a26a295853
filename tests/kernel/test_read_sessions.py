"""Read sessions without a replica: read-only transactions on the primary, same scope.

(With a replica, tests/hardening/test_read_replica.py runs them against a real standby.)
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mercato.kernel.db import get_database, scope_transaction
from tests.factories import create_tenant, signup_and_login


@pytest.fixture
async def tenant_with_a_location(client) -> uuid.UUID:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.put(
        f"/api/v1/tenants/{tenant}/locations/L1", json={"name": "Store"}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(tenant)


async def test_a_read_session_sees_its_tenant_only_and_cannot_write(
    tenant_with_a_location: uuid.UUID,
) -> None:
    database = get_database()
    assert database.replica is None
    async with database.read_session(tenant_with_a_location) as read:
        codes = (await read.execute(text("SELECT code FROM location"))).scalars().all()
        assert codes == ["L1"]
        assert (await read.execute(text("SHOW transaction_read_only"))).scalar() == "on"
    async with database.read_session(uuid.uuid4()) as read:
        assert (await read.execute(text("SELECT count(*) FROM location"))).scalar() == 0
    with pytest.raises(DBAPIError, match="read-only transaction"):
        async with database.read_session(tenant_with_a_location) as read:
            await read.execute(text("DELETE FROM location"))
    async with database.tenant_session(tenant_with_a_location) as session:
        assert (await session.execute(text("SELECT count(*) FROM location"))).scalar() == 1


async def test_without_a_replica_a_request_reads_through_its_own_session(
    tenant_with_a_location: uuid.UUID,
) -> None:
    database = get_database()
    async with database.session() as session:
        await scope_transaction(session, tenant_with_a_location)
        async with database.read_following(session) as read:
            assert read is session
            codes = (await read.execute(text("SELECT code FROM location"))).scalars().all()
            assert codes == ["L1"]
