"""citus access notify: the access triggers stay quiet on Citus worker nodes

On a Citus cluster (mercato.kernel.citus) a table's triggers run on its shards: those of a
reference table on every node, those of a distributed table on the workers. A NOTIFY on a
worker reaches no API process (they listen on the coordinator) and makes the two-phase
commit of a transaction that writes to several nodes fail ("cannot PREPARE a transaction
that has executed NOTIFY"). The function now notifies only where clients listen: on plain
PostgreSQL and on the coordinator. Changes to the distributed `membership` and `api_key`
are notified by the application on the coordinator (mercato.modules.identity.access).

Revision ID: 0170_citus_access_notify
Revises: 0150_funnel_step_times
Create Date: 2026-12-22 09:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0170_citus_access_notify"
down_revision: str | Sequence[str] | None = "0150_funnel_step_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY = "PERFORM pg_notify('mercato_access', TG_ARGV[0] || ':' || (changed ->> TG_ARGV[1]));"


def _function(guard: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION mercato_notify_access() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            changed jsonb;
        BEGIN
            {guard}
            IF TG_OP = 'DELETE' THEN
                changed := to_jsonb(OLD);
            ELSE
                changed := to_jsonb(NEW);
            END IF;
            {NOTIFY}
            RETURN NULL;
        END
        $$
        """


# Nested IFs: plpgsql plans `citus_is_coordinator()` only where the extension exists.
CITUS_WORKER_GUARD = """
            IF to_regproc('citus_is_coordinator') IS NOT NULL THEN
                IF NOT citus_is_coordinator() THEN
                    RETURN NULL;
                END IF;
            END IF;
"""


def upgrade() -> None:
    op.execute(_function(CITUS_WORKER_GUARD))


def downgrade() -> None:
    op.execute(_function(""))
