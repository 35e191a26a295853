#!/usr/bin/env bash
# A one-machine cluster: 2 API servers (each `mercato serve --workers N`) and 2 job workers
# on one PostgreSQL and one Redis, behind nginx, all on loopback.
# `make cluster` / `make cluster-stop` call this.
#
#   deploy/cluster.sh start | stop | status
#
# Environment (all optional):
#   CLUSTER_DIR         run files, logs and (embedded) data   (default .mercato-cluster)
#   CLUSTER_PORT        nginx listens on 127.0.0.1:$CLUSTER_PORT (default 8080)
#   CLUSTER_API_PORTS   the API servers' ports                 (default "8081 8082")
#   CLUSTER_API_WORKERS processes per API server (`serve --workers`; default: the usable
#                       cores shared out over the API servers, at least 1 each)
#   CLUSTER_WORKERS     how many job workers                   (default 2)
#   CLUSTER_DEMO        1 = the first API process seeds the demo tenant (default 1)
#   MERCATO_DATABASE_URL / MERCATO_REDIS_URL   external servers; unset = embedded ones
#                       under $CLUSTER_DIR, shared by every process
#   any other MERCATO_* setting is passed to every process.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MERCATO="${MERCATO:-$ROOT/.venv/bin/mercato}"
CLUSTER_DIR="$(mkdir -p "${CLUSTER_DIR:-$ROOT/.mercato-cluster}" && cd "${CLUSTER_DIR:-$ROOT/.mercato-cluster}" && pwd)"
CLUSTER_PORT="${CLUSTER_PORT:-8080}"
CLUSTER_API_PORTS="${CLUSTER_API_PORTS:-8081 8082}"
CLUSTER_WORKERS="${CLUSTER_WORKERS:-2}"
# Each port stands for an API host; together they get one server process per core.
read -r -a api_ports_list <<<"$CLUSTER_API_PORTS"
CLUSTER_API_WORKERS="${CLUSTER_API_WORKERS:-$(( $(nproc) / ${#api_ports_list[@]} > 0 ? $(nproc) / ${#api_ports_list[@]} : 1 ))}"
CLUSTER_DEMO="${CLUSTER_DEMO:-1}"
RUN_DIR="$CLUSTER_DIR/run"
export MERCATO_DATA_DIR="${MERCATO_DATA_DIR:-$CLUSTER_DIR/data}"
export MERCATO_PUBLIC_URL="${MERCATO_PUBLIC_URL:-http://127.0.0.1:$CLUSTER_PORT}"

say() { printf '== %s\n' "$*"; }

need_nginx() {
    if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then return; fi
    say "installing nginx from Debian's packages"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null
}

nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

spawn() {  # spawn NAME COMMAND...: run in the background, pid and log under $RUN_DIR
    local name="$1"; shift
    if alive "$RUN_DIR/$name.pid"; then say "$name already running"; return; fi
    nohup "$@" >>"$RUN_DIR/$name.log" 2>&1 &
    echo $! >"$RUN_DIR/$name.pid"
}

answers() {  # answers URL: true when GET URL is a 2xx
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" \
        >/dev/null 2>&1
}

wait_ready() {  # wait_ready URL SECONDS
    local deadline=$((SECONDS + $2))
    until answers "$1/ready"; do
        if [ $SECONDS -ge $deadline ]; then
            echo "not ready: $1 (logs in $RUN_DIR)" >&2
            return 1
        fi
        sleep 0.5
    done
}

write_nginx_conf() {
    local upstreams=""
    for port in $CLUSTER_API_PORTS; do
        upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;\\n"
    done
    mkdir -p "$RUN_DIR/nginx-tmp"
    chmod 1777 "$RUN_DIR/nginx-tmp"  # nginx's workers may run as another user
    awk -v run="$RUN_DIR" -v listen="127.0.0.1:$CLUSTER_PORT" -v ups="${upstreams%\\n}" '
        /^@UPSTREAM_SERVERS@$/ { print ups; next }
        { gsub("@RUN_DIR@", run); gsub("@LISTEN@", listen); print }
    ' "$ROOT/deploy/nginx.conf.template" >"$RUN_DIR/nginx.conf"
}

start() {
    mkdir -p "$RUN_DIR"
    need_nginx
    say "migrating ($MERCATO_DATA_DIR)"
    "$MERCATO" migrate >>"$RUN_DIR/migrate.log" 2>&1
    local first=1
    for port in $CLUSTER_API_PORTS; do
        if [ $first -eq 1 ] && [ "$CLUSTER_DEMO" = 1 ]; then
            # The first API process seeds the demo tenant once (its login is in its log).
            spawn "api-$port" "$MERCATO" serve --host 127.0.0.1 --port "$port" \
                --workers "$CLUSTER_API_WORKERS" --demo --no-with-worker
            wait_ready "http://127.0.0.1:$port" 300
        else
            spawn "api-$port" "$MERCATO" serve --host 127.0.0.1 --port "$port" \
                --workers "$CLUSTER_API_WORKERS"
        fi
        first=0
    done
    for n in $(seq 1 "$CLUSTER_WORKERS"); do
        spawn "worker-$n" "$MERCATO" worker
    done
    for port in $CLUSTER_API_PORTS; do wait_ready "http://127.0.0.1:$port" 120; done
    write_nginx_conf
    "$(nginx_bin)" -t -q -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR"
    if ! alive "$RUN_DIR/nginx.pid"; then
        "$(nginx_bin)" -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR"
    fi
    wait_ready "http://127.0.0.1:$CLUSTER_PORT" 30
    say "cluster ready: http://127.0.0.1:$CLUSTER_PORT (API servers on $CLUSTER_API_PORTS with $CLUSTER_API_WORKERS processes each, $CLUSTER_WORKERS workers)"
    if [ -f "$MERCATO_DATA_DIR/demo-credentials.json" ]; then
        say "demo login: $(cat "$MERCATO_DATA_DIR/demo-credentials.json")"
    fi
    say "logs: $RUN_DIR/*.log    stop: make cluster-stop"
}

stop() {
    if alive "$RUN_DIR/nginx.pid"; then
        "$(nginx_bin)" -q -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -s quit || true
    fi
    local pids=()
    for pidfile in "$RUN_DIR"/api-*.pid "$RUN_DIR"/worker-*.pid; do
        [ -f "$pidfile" ] || continue
        if alive "$pidfile"; then
            kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
            pids+=("$(cat "$pidfile")")
        fi
        rm -f "$pidfile"
    done
    # Graceful: requests in flight finish and running jobs complete (bounded by uvicorn's
    # 20 s and the jobs' own timeouts); the last process stops the embedded servers.
    local deadline=$((SECONDS + 60))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    local nginx_deadline=$((SECONDS + 10))
    while alive "$RUN_DIR/nginx.pid" && [ $SECONDS -lt $nginx_deadline ]; do sleep 0.2; done
    say "cluster stopped"
}

status() {
    for pidfile in "$RUN_DIR"/*.pid; do
        [ -f "$pidfile" ] || continue
        if alive "$pidfile"; then state=running; else state=stopped; fi
        printf '%-14s %-8s pid %s\n' "$(basename "$pidfile" .pid)" "$state" "$(cat "$pidfile")"
    done
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
