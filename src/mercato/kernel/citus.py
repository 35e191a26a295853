"""Citus: every tenant table sharded by `tenant_id` over worker nodes, from the catalog.

Mercato's schema is Citus-shaped already (`tenant_id` leads every tenant table's primary
key and unique keys; tests/test_schema_shape.py keeps it so). `mercato migrate` against a
Citus coordinator runs the migration chain as on plain PostgreSQL, then `distribute`:

- a table with a `tenant_id` column → `create_distributed_table(…, 'tenant_id')`, all
  co-located, so a tenant's rows of every table sit on one worker and its joins and
  transactions stay on that worker; the partitioned event table is distributed as a whole
  (its monthly partitions follow, and later ones are distributed as they are attached);
- a table without one (tenants, users, plans…) → `create_reference_table`, a copy on
  every node, which distributed tables may reference by foreign key;
- the job queue's tables (`procrastinate_*`) stay local to the coordinator: its workers
  lock and notify there.

Nothing is listed by hand: a table a later migration adds is distributed by the next
`mercato migrate`. DDL on an already distributed table (ALTER TABLE, CREATE INDEX) is
propagated by Citus to the shards.

Tenant scoping needs `citus.propagate_set_commands = 'local'` on the coordinator so a
transaction's `SET LOCAL app.tenant_id` reaches the workers its queries run on (where the
shards' row-level security policies read it); `distribute` sets it on the database, with
the other `DATABASE_SETTINGS`.

The coordinator reaches the workers as the role a query runs under: the application role
(and the catalog's search role) must be able to log in on the workers, though they stay
NOLOGIN on the coordinator, the one node clients reach. `distribute` sees to it on every
run, so re-run `mercato migrate` after adding a worker.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import psycopg
from psycopg import sql

# The job queue's tables, and Alembic's bookkeeping that only the migrating process reads.
DISTRIBUTE_LOCK_ID = 727_274_002  # processes migrating at once distribute one at a time
LOCAL_PREFIXES = ("procrastinate_", "alembic_version")

_TABLES = """
    SELECT c.relname,
           EXISTS (SELECT 1 FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                     AND NOT a.attisdropped) AS has_tenant,
           EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = c.oid)
               AS distributed
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname
"""

# (referencing table, referenced table) for every foreign key between public tables.
_FOREIGN_KEYS = """
    SELECT DISTINCT c.conrelid::regclass::text, c.confrelid::regclass::text
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE c.contype = 'f' AND n.nspname = 'public' AND c.conrelid <> c.confrelid
"""


def is_citus(conn: psycopg.Connection) -> bool:
    """True when the database has the Citus extension (a coordinator)."""
    row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone()
    return row is not None


def _in_dependency_order(tables: list[str], edges: Iterable[tuple[str, str]]) -> list[str]:
    """Referenced tables before the tables that reference them (Citus requires it)."""
    wanted = set(tables)
    needs: dict[str, set[str]] = {name: set() for name in tables}
    for child, parent in edges:
        if child in wanted and parent in wanted:
            needs[child].add(parent)
    ordered: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            raise RuntimeError(f"foreign keys form a cycle: {' -> '.join((*path, name))}")
        for parent in sorted(needs[name]):
            visit(parent, (*path, name))
        done.add(name)
        ordered.append(name)

    for name in tables:
        visit(name, ())
    return ordered


DATABASE_SETTINGS = (
    # SET LOCAL app.tenant_id (and the other scope settings) reach the workers.
    ("citus.propagate_set_commands", "local"),
    # A query that finds a row by a key other than the tenant (an API key's hash, an
    # invitation's token) reads every shard; run in parallel, it would forbid writing a
    # reference table (a new staff account) later in the same transaction.
    ("citus.multi_shard_modify_mode", "sequential"),
)

# NOLOGIN roles holding privileges on the public tables: the coordinator connects to the
# workers as them when a query runs under them.
_QUERY_ROLES = """
    SELECT r.rolname FROM pg_roles r
    WHERE NOT r.rolcanlogin AND r.rolname IN (
        SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = 'public'
        UNION
        SELECT grantee FROM information_schema.role_column_grants WHERE table_schema = 'public'
    )
    ORDER BY r.rolname
"""


def distribute_if_coordinator(conn: psycopg.Connection) -> list[str]:
    """`distribute` when `conn` (idle, the owner's) is to a Citus coordinator; else nothing."""
    previous = conn.autocommit
    conn.autocommit = True
    try:
        return distribute(conn) if is_citus(conn) else []
    finally:
        conn.autocommit = previous


def distribute(conn: psycopg.Connection) -> list[str]:
    """Distribute what is not distributed yet; return what changed (idempotent).

    `conn` is the owner's connection to a coordinator, in autocommit mode.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (DISTRIBUTE_LOCK_ID,))
    try:
        changed = _distribute_tables(conn)
        _let_query_roles_reach_workers(conn)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (DISTRIBUTE_LOCK_ID,))
    return changed


def _let_query_roles_reach_workers(conn: psycopg.Connection) -> None:
    """LOGIN on the workers, NOLOGIN kept on the coordinator (see the module's docstring)."""
    for (role,) in conn.execute(_QUERY_ROLES).fetchall():
        name = sql.Identifier(role)
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(name))  # propagates to the workers
        conn.execute("SET citus.enable_alter_role_propagation = off")
        conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(name))
        conn.execute("RESET citus.enable_alter_role_propagation")


def _distribute_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(_TABLES).fetchall()
    edges = conn.execute(_FOREIGN_KEYS).fetchall()
    pending = [
        (name, has_tenant)
        for name, has_tenant, distributed in rows
        if not distributed and not name.startswith(LOCAL_PREFIXES)
    ]
    reference = _in_dependency_order([n for n, tenant in pending if not tenant], edges)
    tenant = _in_dependency_order([n for n, tenant in pending if tenant], edges)
    anchor = _colocation_anchor(conn)
    # The catalog's statement triggers run on the shards, where they write to the same
    # tenant's shard of another co-located table: safe, so allowed.
    conn.execute("SET citus.enable_unsafe_triggers = on")
    # Otherwise making `tenant` a reference table would turn every table referencing it
    # into a "Citus local" table, which then could not be distributed.
    conn.execute("SET citus.enable_local_reference_table_foreign_keys = off")
    changed = []
    for name in reference:
        conn.execute("SELECT create_reference_table(%s)", (name,))
        changed.append(f"{name}: reference table")
    for name in tenant:
        if anchor is None:
            conn.execute("SELECT create_distributed_table(%s, 'tenant_id')", (name,))
            anchor = name
        else:
            conn.execute(
                "SELECT create_distributed_table(%s, 'tenant_id', colocate_with => %s)",
                (name, anchor),
            )
        changed.append(f"{name}: distributed by tenant_id")
    # The coordinator's copies of rows the migrations wrote are now on the nodes; once
    # every foreign key is between Citus tables they can go.
    for name in [*reference, *tenant]:
        conn.execute("SELECT truncate_local_data_after_distributing_table(%s)", (name,))
    conn.execute("RESET citus.enable_unsafe_triggers")
    conn.execute("RESET citus.enable_local_reference_table_foreign_keys")
    database = conn.execute("SELECT current_database()").fetchone()
    assert database is not None
    for setting, value in DATABASE_SETTINGS:
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(database[0]), sql.SQL(setting), sql.Literal(value)
            )
        )
    return changed


def _colocation_anchor(conn: psycopg.Connection) -> str | None:
    """An already distributed tenant table, so new ones join its co-location group."""
    row = conn.execute(
        """
        SELECT logicalrelid::regclass::text FROM pg_dist_partition
        WHERE partmethod = 'h' AND column_to_column_name(logicalrelid, partkey) = 'tenant_id'
        ORDER BY colocationid, logicalrelid LIMIT 1
        """
    ).fetchone()
    return None if row is None else str(row[0])


# --- Databases (on every node of a cluster) ----------------------------------------------


def _workers(conn: psycopg.Connection) -> list[tuple[str, int]]:
    rows = conn.execute(
        "SELECT nodename, nodeport FROM pg_dist_node "
        "WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeid"
    ).fetchall()
    return [(str(host), int(port)) for host, port in rows]


def _coordinator(conn: psycopg.Connection) -> tuple[str, int]:
    row = conn.execute("SELECT nodename, nodeport FROM pg_dist_node WHERE groupid = 0").fetchone()
    if row is None:
        raise RuntimeError("the server's maintenance database lists no coordinator")
    return str(row[0]), int(row[1])


def _on_node(server_dsn: str, host: str, port: int, database: str) -> psycopg.Connection:
    params = psycopg.conninfo.conninfo_to_dict(server_dsn)
    params.update(host=host, port=str(port), dbname=database)
    return psycopg.connect(psycopg.conninfo.make_conninfo(**params), autocommit=True)  # type: ignore[arg-type]


def create_database(server_dsn: str, name: str) -> None:
    """Create database `name` on the server of `server_dsn` (its maintenance database).

    On a Citus coordinator (deploy/citus.sh), on the coordinator and every worker, with
    the extension and the coordinator's node list, so `mercato migrate` can distribute.
    """
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        if not is_citus(admin):
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return
        workers = _workers(admin)
        coordinator = _coordinator(admin)
    for host, port in [coordinator, *workers]:
        with _on_node(server_dsn, host, port, "postgres") as node:
            exists = node.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                # Citus would propagate this from the coordinator; workers get it first here.
                node.execute("SET citus.enable_create_database_propagation = off")
                node.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with _on_node(server_dsn, host, port, name) as node:
            node.execute("CREATE EXTENSION IF NOT EXISTS citus")
    with _on_node(server_dsn, *coordinator, name) as conn:
        conn.execute("SELECT citus_set_coordinator_host(%s, %s)", coordinator)
        known = set(_workers(conn))
        for worker in workers:
            if worker not in known:
                conn.execute("SELECT citus_add_node(%s, %s)", worker)


def drop_database(server_dsn: str, name: str) -> None:
    """Drop database `name`, from every node on Citus (the reverse of `create_database`)."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        if not is_citus(admin):
            admin.execute(drop)
            return
        nodes = [_coordinator(admin), *_workers(admin)]
    for host, port in nodes:
        with _on_node(server_dsn, host, port, "postgres") as node:
            node.execute("SET citus.enable_create_database_propagation = off")
            node.execute(drop)


def main(argv: list[str]) -> int:
    """`python -m mercato.kernel.citus create-database SERVER_DSN NAME` (deploy/citus.sh)."""
    if len(argv) != 3 or argv[0] != "create-database":
        print("usage: python -m mercato.kernel.citus create-database SERVER_DSN NAME")
        return 2
    create_database(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
