"""EXPLAIN of the real search statements on a catalog big enough for the planner to care:
full text goes through the GIN index, price sorts through their B-tree, typo correction
through the trigram GiST index of the vocabulary."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from mercato.kernel.db import get_database
from mercato.modules.catalog.search import ProductQuery, list_products
from tests.modules.catalog.factories import open_shop

ROWS = 30_000

FILL = text(
    """
    INSERT INTO product (tenant_id, product_id, name, description, price, currency, brand,
                         category_path, additional_image_urls, available, variant_attributes,
                         attributes)
    SELECT :tenant_id, 'gen-' || n,
           (ARRAY['Oak','Pine','Brass','Linen','Velvet','Steel','Walnut','Rattan'])[n % 8 + 1]
           || ' ' || substr(md5(n::text), 1, 7) || ' ' ||
           (ARRAY['chair','sofa','lamp','table','shelf','rug','mirror','bed','desk','stool',
                  'cabinet','bench','vase','clock','cushion','curtain','planter','basket',
                  'dresser','wardrobe'])[n % 20 + 1] || ' ' || n,
           'Item number ' || n, (n % 500) + 9.99, 'EUR',
           'Brand ' || (n % 40), 'Home > Room ' || (n % 12), '{}', true, '{}', '{}'
    FROM generate_series(1, :rows) AS n
    """
)


def _plan_indexes(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.add(plan["Index Name"])
        for value in plan.values():
            found |= _plan_indexes(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _plan_indexes(value)
    return found


@pytest.fixture(scope="module")
async def big_tenant(app) -> uuid.UUID:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        shop = await open_shop(client)
    tenant_id = uuid.UUID(shop.tenant_id)
    async with get_database().tenant_session(tenant_id) as session:
        await session.execute(FILL, {"tenant_id": tenant_id, "rows": ROWS})
    from mercato.kernel.db import libpq_url
    from mercato.settings import get_settings

    url = get_settings().database_url
    assert url is not None
    with psycopg.connect(libpq_url(url), autocommit=True) as owner:
        # What autovacuum does after a bulk load: merge the GIN pending list, gather stats.
        owner.execute("VACUUM ANALYZE product")
        owner.execute("VACUUM ANALYZE catalog_term")
    return tenant_id


async def _explained(tenant_id: uuid.UUID, query: ProductQuery) -> dict[str, set[str]]:
    """Run the search, then EXPLAIN every statement it sent, keyed by a marker."""
    captured: list[tuple[str, Any]] = []
    engine = get_database().engine.sync_engine

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        async with get_database().tenant_session(tenant_id) as session:
            await list_products(session, tenant_id, query)
            plans: dict[str, set[str]] = {}
            for statement, parameters in captured:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                connection = await session.connection()
                result = await connection.exec_driver_sql(
                    "EXPLAIN (FORMAT JSON) " + statement, parameters
                )
                plan = result.scalar_one()
                plans[statement] = _plan_indexes(
                    plan if not isinstance(plan, str) else json.loads(plan)
                )
            return plans
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _indexes_of(plans: dict[str, set[str]], marker: str) -> set[str]:
    return set().union(*(found for statement, found in plans.items() if marker in statement))


async def test_typo_correction_uses_the_trigram_index(big_tenant) -> None:
    plans = await _explained(big_tenant, ProductQuery(q="oak chiar"))
    assert "ix_catalog_term_trigram" in _indexes_of(plans, "catalog_term")
    assert "pk_product" in _indexes_of(plans, "catalog_search_page")  # rows read by key


def test_the_text_search_function_uses_the_gin_index(big_tenant, owner_dsn) -> None:
    """EXPLAIN the body of `catalog_text_search` as the role it runs as."""
    with psycopg.connect(owner_dsn) as owner:
        body = owner.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'catalog_text_search'"
        ).fetchone()[0]
        owner.execute("SET ROLE mercato_catalog_search")
        owner.execute("SELECT set_config('app.tenant_id', %s, true)", (str(big_tenant),))
        statement = re.sub(r"\bquery\b", "to_tsquery('english', %(q)s)", body)
        plan = owner.execute("EXPLAIN (FORMAT JSON) " + statement, {"q": "walnut & chair"})
        assert "ix_product_search" in _plan_indexes(plan.fetchone()[0])


def test_the_search_page_function_uses_the_gin_index(big_tenant, owner_dsn) -> None:
    """auto_explain reports the plan of the statement the function builds and runs."""
    plans: list[str] = []
    with psycopg.connect(owner_dsn) as owner:
        owner.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        try:
            owner.execute("LOAD 'auto_explain'")
        except psycopg.errors.InsufficientPrivilege:
            pytest.skip("loading auto_explain needs a superuser owner role")
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "notice"),
        ):
            owner.execute("SELECT set_config(%s, %s, false)", (setting, value))
        owner.execute("SET ROLE mercato_app")
        owner.execute("SELECT set_config('app.tenant_id', %s, true)", (str(big_tenant),))
        owner.execute(
            "SELECT * FROM catalog_search_page(to_tsquery('english', 'oak & chair'), "
            "'relevance', NULL, NULL, NULL, NULL, NULL, 20, NULL, NULL)"
        ).fetchall()
    inner = [plan for plan in plans if "ts_rank" in plan and "search_vector @@" in plan]
    assert inner
    assert "ix_product_search" in inner[0]


async def test_price_sort_walks_the_price_index(big_tenant) -> None:
    plans = await _explained(big_tenant, ProductQuery(sort="price_asc", limit=20))
    assert "ix_product_price" in _indexes_of(plans, "price_key")


async def test_newest_listing_walks_the_created_index(big_tenant) -> None:
    plans = await _explained(big_tenant, ProductQuery(limit=20))
    assert "ix_product_newest" in _indexes_of(plans, "created_at")
