"""Row-level security: the application role sees one tenant's rows, or none."""

from __future__ import annotations

import secrets
import uuid

import psycopg
import pytest

from mercato.kernel.rls import tenant_rls_statements
from mercato.settings import get_settings


@pytest.fixture
def probe_table(owner_dsn: str):
    """A throwaway tenant table made tenant-safe by the same helper migrations use."""
    table = f"rls_probe_{secrets.token_hex(4)}"
    tenant_a, tenant_b = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (tenant_id uuid NOT NULL, label text NOT NULL)")
        conn.execute(
            f"INSERT INTO {table} VALUES (%s, 'a1'), (%s, 'a2'), (%s, 'b1')",
            (tenant_a, tenant_a, tenant_b),
        )
        for statement in tenant_rls_statements(table):
            conn.execute(statement)
    yield table, tenant_a, tenant_b
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {table}")


def _as_app_role(owner_dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(owner_dsn)
    conn.execute(f'SET ROLE "{get_settings().app_role}"')
    assert conn.execute("SELECT current_user").fetchone()[0] == get_settings().app_role
    return conn


def test_without_tenant_setting_a_tenant_table_looks_empty(owner_dsn: str, probe_table) -> None:
    table, _, _ = probe_table
    with _as_app_role(owner_dsn) as conn:
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_with_tenant_a_set_tenant_b_rows_never_appear(owner_dsn: str, probe_table) -> None:
    table, tenant_a, tenant_b = probe_table
    with _as_app_role(owner_dsn) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_a),))
        rows = conn.execute(f"SELECT tenant_id, label FROM {table} ORDER BY label").fetchall()
        assert rows == [(tenant_a, "a1"), (tenant_a, "a2")]
        # Even asking for tenant B explicitly returns nothing.
        assert (
            conn.execute(
                f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant_b,)
            ).fetchone()[0]
            == 0
        )


def test_writes_into_another_tenant_are_refused(owner_dsn: str, probe_table) -> None:
    table, tenant_a, tenant_b = probe_table
    with _as_app_role(owner_dsn) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_a),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"INSERT INTO {table} VALUES (%s, 'sneaky')", (tenant_b,))


def test_setting_is_transaction_local(owner_dsn: str, probe_table) -> None:
    table, tenant_a, _ = probe_table
    with _as_app_role(owner_dsn) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_a),))
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 2
        conn.commit()
        # The next transaction on the same pooled connection starts with no tenant.
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_every_table_with_tenant_id_has_forced_rls_and_a_policy(owner_dsn: str) -> None:
    query = """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
          AND c.relname NOT LIKE 'rls_probe_%%'
    """
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(query).fetchall()
    unsafe = [name for name, rls, forced, policy in rows if not (rls and forced and policy)]
    assert unsafe == [], f"tenant tables without forced RLS + policy: {unsafe}"


def test_application_role_owns_nothing_and_is_not_privileged(owner_dsn: str) -> None:
    role = get_settings().app_role
    with psycopg.connect(owner_dsn) as conn:
        # Per-connection staging tables (tracking's event writer) live in pg_temp_N and go
        # with their connection; nothing the role owns may outlive it.
        owned = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE r.rolname = %s AND n.nspname !~ '^pg_(toast_)?temp_'",
            (role,),
        ).fetchone()[0]
        flags = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = %s",
            (role,),
        ).fetchone()
    assert owned == 0
    assert flags == (False, False, False, False)
