"""catalog search: tell the planner a search page is a page

`catalog_search_page()` returns at most `page_size` ids (the API caps it at 200, a page is
usually 20-50), but was declared with the default estimate of 1,000 rows. Once psycopg
prepares the search statement and PostgreSQL switches it to a generic plan, that estimate
made the join back to `product` a hash join over every product of the tenant (20,000 rows
hashed, spilling to disk: 45-70 ms) instead of one primary-key lookup per id on the page
(0.2 ms). 50 rows is the default page plus one.

Revision ID: 0130_catalog_search_rows
Revises: 0120_analytics_reach
Create Date: 2026-12-21 09:10:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0130_catalog_search_rows"
down_revision: str | Sequence[str] | None = "0120_analytics_reach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE_SIGNATURE = (
    "catalog_search_page(tsquery, text, uuid[], text, bigint, bigint, boolean, int, text, text)"
)


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f"ALTER FUNCTION {PAGE_SIGNATURE} ROWS 50")


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION {PAGE_SIGNATURE} ROWS 1000")
