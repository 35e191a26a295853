"""observability: counts across tenants for the gauges `/metrics` reads at scrape time

- `experiments_running_count()`: experiments running (`mercato_experiments_running`);
- `ga4_stale_tenants(p_stale_after interval, p_active_within interval)`: tenants that
  imported GA4 data (files or BigQuery) within `p_active_within` but whose newest
  completed import finished more than `p_stale_after` ago (`mercato_ga4_stale_tenants`).

Row-level security hides every tenant's rows from a query without a tenant, so each count
runs as the owner, tenant by tenant, inside a SECURITY DEFINER function that returns one
number and nothing else; the application role may only call them.

Revision ID: 0200_observability
Revises: 0190_fulfilment_returns
Create Date: 2026-12-22 09:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from mercato.kernel.rls import app_role

revision: str = "0200_observability"
down_revision: str | Sequence[str] | None = "0190_fulfilment_returns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = ("experiments_running_count()", "ga4_stale_tenants(interval, interval)")


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
    op.execute(
        """
        CREATE FUNCTION ga4_stale_tenants(p_stale_after interval, p_active_within interval)
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
        SET app.tenant_id = '' AS $$
        DECLARE
            v_tenant uuid;
            v_newest timestamptz;
            v_total bigint := 0;
        BEGIN
            FOR v_tenant IN SELECT t.id FROM tenant t WHERE t.status = 'active' LOOP
                PERFORM set_config('app.tenant_id', v_tenant::text, true);
                SELECT max(j.finished_at) INTO v_newest FROM ingest_job j
                 WHERE j.tenant_id = v_tenant AND j.source IN ('ga4_file', 'bigquery')
                   AND j.status = 'completed';
                IF v_newest IS NOT NULL AND v_newest < now() - p_stale_after
                   AND v_newest >= now() - p_active_within THEN
                    v_total := v_total + 1;
                END IF;
            END LOOP;
            RETURN v_total;
        END
        $$
        """
    )
    for signature in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {app_role()}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
