"""Row-level security and grants for migrations: one line per new table.

```python
from mercato.kernel.rls import enable_tenant_rls
enable_tenant_rls("product")
```

The policy compares `tenant_id` with the transaction's `app.tenant_id`. Without that
setting the table looks empty; `NULLIF` keeps an unset or reset value from failing the
cast. FORCE makes the policy apply to the table owner too.
"""

from __future__ import annotations

from collections.abc import Iterable

from alembic import op

from mercato.settings import get_settings

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
DML = ("SELECT", "INSERT", "UPDATE", "DELETE")


def app_role() -> str:
    return '"' + get_settings().app_role.replace('"', '""') + '"'


def grant_app(table: str, privileges: Iterable[str] = DML) -> None:
    """Let the application role use a table (it owns none)."""
    op.execute(f"GRANT {', '.join(privileges)} ON TABLE {table} TO {app_role()}")


def tenant_rls_statements(
    table: str,
    *,
    privileges: Iterable[str] = DML,
    extra_using: str | None = None,
) -> list[str]:
    """The SQL that makes `table` a tenant table (see `enable_tenant_rls`)."""
    using = TENANT_PREDICATE if extra_using is None else f"({TENANT_PREDICATE}) OR ({extra_using})"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({using}) "
        f"WITH CHECK ({TENANT_PREDICATE})",
        f"GRANT {', '.join(privileges)} ON TABLE {table} TO {app_role()}",
    ]


def enable_tenant_rls(
    table: str,
    *,
    privileges: Iterable[str] = DML,
    extra_using: str | None = None,
) -> None:
    """Enable and force RLS on a tenant table, add the tenant policy, grant the app role.

    `extra_using` widens what may be *read* (e.g. a member listing their own memberships
    across tenants); writes always stay within the current tenant.
    """
    for statement in tenant_rls_statements(table, privileges=privileges, extra_using=extra_using):
        op.execute(statement)
