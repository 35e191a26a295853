"""published reads: tracking's events and catalog's products as views for SQL consumers

Analytics, experiments, insights and recommendations aggregate events in SQL, and
recommendations and feeds read the whole catalog; they now read these views instead of
the owning module's tables. Each view is its module's published read model: its columns
are a contract, while the table behind it (partitions, the `properties` blob, keys) stays
the owner's to change. `security_invoker` makes the caller's row-level security apply,
so a view shows exactly the rows of the tenant in scope, like the table.

Revision ID: 0140_published_reads
Revises: 0130_catalog_search_rows
Create Date: 2026-12-21 10:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from mercato.kernel.rls import grant_app

revision: str = "0140_published_reads"
down_revision: str | Sequence[str] | None = "0130_catalog_search_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRACKING_EVENTS = """
CREATE VIEW tracking_events WITH (security_invoker = true) AS
SELECT tenant_id, occurred_at, received_at, key AS event_key, type, user_id, session_id,
       product_id, quantity, price, revenue, currency, query, results_count, placement,
       strategy, experiment_id, variant, location_code, source,
       properties ->> 'order_id' AS order_id, properties ->> 'email' AS email
FROM event
"""

CATALOG_PRODUCTS = """
CREATE VIEW catalog_products WITH (security_invoker = true) AS
SELECT tenant_id, product_id, name, brand, category_path, description, attributes, price,
       sale_price, currency, available, created_at, updated_at, deleted_at
FROM product
"""


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(TRACKING_EVENTS)
    op.execute(CATALOG_PRODUCTS)
    grant_app("tracking_events", ("SELECT",))
    grant_app("catalog_products", ("SELECT",))


def downgrade() -> None:
    op.execute("DROP VIEW catalog_products")
    op.execute("DROP VIEW tracking_events")
