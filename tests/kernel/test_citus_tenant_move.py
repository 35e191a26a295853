"""Moving one tenant to another Citus worker while the application keeps serving it.

The procedure of docs/scaling.md: `isolate_tenant_to_new_shard` gives the tenant shards of
its own (in every co-located table), `citus_move_shard_placement` moves that shard group
to the other worker by logical replication. Runs against a Citus coordinator only
(`make test-citus`); on plain PostgreSQL there is nothing to move.
"""

from __future__ import annotations

import psycopg
import pytest

from mercato.kernel.citus import is_citus
from tests.factories import create_tenant, signup_and_login

PLACEMENT = """
    SELECT s.shardid, p.nodename, p.nodeport
    FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
    WHERE s.shardid = get_shard_id_for_distribution_column(%s, %s::uuid)
"""


@pytest.fixture
def coordinator(owner_dsn: str) -> str:
    with psycopg.connect(owner_dsn) as conn:
        if not is_citus(conn):
            pytest.skip("needs a Citus coordinator (make test-citus)")
    return owner_dsn


async def _put_product(client, owner, tenant: str, product_id: str) -> None:
    response = await client.put(
        f"/api/v1/tenants/{tenant}/products/{product_id}",
        json={"name": f"Product {product_id}", "price": "4.20", "currency": "EUR"},
        headers=owner.headers,
    )
    assert response.status_code in (200, 201), response.text


async def test_a_tenant_moved_to_another_worker_keeps_its_data_and_its_isolation(
    client, coordinator: str
) -> None:
    owner, neighbour = await signup_and_login(client), await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    other = await create_tenant(client, neighbour)
    await _put_product(client, owner, tenant, "before-move")
    await _put_product(client, neighbour, other, "neighbours")

    with psycopg.connect(coordinator, autocommit=True) as conn:
        conn.execute(
            "SELECT isolate_tenant_to_new_shard('product', %s::uuid, 'CASCADE', "
            "shard_transfer_mode => 'block_writes')",
            (tenant,),
        )
        shard, host, port = conn.execute(PLACEMENT, ("product", tenant)).fetchone()
        target = conn.execute(
            "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 "
            "AND noderole = 'primary' AND nodeport <> %s ORDER BY nodeid LIMIT 1",
            (port,),
        ).fetchone()
        assert target is not None, "the cluster needs a second worker"
        # Logical replication (wal_level = logical): writes continue during the copy.
        conn.execute(
            "SELECT citus_move_shard_placement(%s, %s, %s, %s, %s, "
            "shard_transfer_mode => 'force_logical')",
            (shard, host, port, *target),
        )
        moved = conn.execute(PLACEMENT, ("product", tenant)).fetchone()
        # Co-located tables moved with it: the tenant's orders sit beside its products.
        orders = conn.execute(PLACEMENT, ("sales_order", tenant)).fetchone()
    assert (moved[1], moved[2]) == tuple(target)
    assert (orders[1], orders[2]) == tuple(target)

    read = await client.get(f"/api/v1/tenants/{tenant}/products/before-move", headers=owner.headers)
    assert read.status_code == 200, read.text
    await _put_product(client, owner, tenant, "after-move")
    listed = await client.get(f"/api/v1/tenants/{tenant}/products", headers=owner.headers)
    assert sorted(p["product_id"] for p in listed.json()["data"]) == ["after-move", "before-move"]
    # Still one tenant's rows only, either way.
    crossed = await client.get(
        f"/api/v1/tenants/{other}/products/before-move", headers=neighbour.headers
    )
    assert crossed.status_code == 404
    mine = await client.get(f"/api/v1/tenants/{other}/products", headers=neighbour.headers)
    assert [p["product_id"] for p in mine.json()["data"]] == ["neighbours"]
