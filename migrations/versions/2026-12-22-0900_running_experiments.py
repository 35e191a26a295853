"""running experiments: a count across tenants for the `mercato_experiments_running` gauge

Row-level security hides every tenant's experiments from a query without a tenant, so
the count runs as the owner, tenant by tenant, inside a SECURITY DEFINER function that
returns one number and nothing else; the application role may only call it.

Revision ID: 0160_running_experiments
Revises: 0150_funnel_step_times
Create Date: 2026-12-22 09:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from mercato.kernel.rls import app_role

revision: str = "0160_running_experiments"
down_revision: str | Sequence[str] | None = "0150_funnel_step_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION experiments_running_count() RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
        SET app.tenant_id = '' AS $$
        DECLARE
            v_tenant uuid;
            v_count bigint;
            v_total bigint := 0;
        BEGIN
            FOR v_tenant IN SELECT t.id FROM tenant t WHERE t.status <> 'deleted' LOOP
                PERFORM set_config('app.tenant_id', v_tenant::text, true);
                SELECT count(*) INTO v_count FROM experiment e
                 WHERE e.tenant_id = v_tenant AND e.status = 'running';
                v_total := v_total + v_count;
            END LOOP;
            RETURN v_total;
        END
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION experiments_running_count() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION experiments_running_count() TO {app_role()}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS experiments_running_count()")
