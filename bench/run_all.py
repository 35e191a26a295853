"""Run every benchmark and write docs/benchmarks.md and docs/benchmarks.svg.

    .venv/bin/python bench/run_all.py [--mode quick|full] [--only NAME ...]

(`make bench` runs this; `BENCH_MODE=quick make bench` for the ~1-minute sizes.)

A benchmark is any bench/*.py with a module-level `BENCH = {"order": int, "quick": [...],
"full": [...]}` (read from the source, without importing the script). Each runs in its own
subprocess, in `order`, with the arguments of the mode plus `--json <tmpfile>`; its output
goes to a log file. A script that exits non-zero, times out or writes no valid JSON is
reported as failed and the run goes on; one that exits with code 77 is reported as skipped
(its last output line says why). The exit code is 1 when any benchmark failed.
A script's optional `REPORT` string goes under its heading in the report, and its
optional curves (`series` in its JSON) are drawn as docs/benchmarks-<name>.svg.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results import (
    BenchResult,
    parse_document,
    parse_series,
    render_markdown,
    render_series_svg,
    render_svg,
    summary,
)
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SKIP_EXIT = 77
MODES = ("quick", "full")
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Script:
    name: str
    path: Path
    order: int
    quick: list[str]
    full: list[str]
    problem: str | None = None  # a BENCH dict the runner cannot use: reported as failed
    report: str | None = None  # the script's REPORT text, put under its heading

    def args(self, mode: str) -> list[str]:
        return self.quick if mode == "quick" else self.full


def _constant(source: str, name: str) -> Any:
    """The literal value of a module-level constant `name` in `source`, or None."""
    for node in ast.parse(source).body:
        value = None
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ) or (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            value = node.value
        if value is not None:
            return ast.literal_eval(value)
    return None


def read_bench(source: str) -> dict[str, Any] | None:
    """The module-level `BENCH` dict of a script's source, or None when it has none."""
    spec = _constant(source, "BENCH")
    if spec is not None and not isinstance(spec, dict):
        raise ValueError("BENCH is not a dict")
    return spec


def read_report(source: str) -> str | None:
    """The optional module-level `REPORT` string: prose for the script's report section."""
    text = _constant(source, "REPORT")
    if text is not None and not isinstance(text, str):
        raise ValueError("REPORT is not a string")
    return text


def discover(folder: Path = BENCH_DIR) -> list[Script]:
    """Every benchmark script in `folder`, in BENCH["order"] then name order.

    A script whose BENCH cannot be used is still listed (last, with its problem), so the
    report says it failed instead of the whole run stopping.
    """
    scripts = []
    for path in sorted(folder.glob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
            spec = read_bench(source)
            if spec is None:
                continue
            missing = [key for key in ("order", "quick", "full") if key not in spec]
            if missing:
                raise ValueError(f"BENCH lacks {', '.join(map(repr, missing))}")
            script = Script(
                name=path.stem,
                path=path,
                order=int(spec["order"]),
                quick=[str(a) for a in spec["quick"]],
                full=[str(a) for a in spec["full"]],
                report=read_report(source),
            )
        except (SyntaxError, ValueError, TypeError) as exc:
            script = Script(path.stem, path, 1_000_000, [], [], problem=f"{path.name}: {exc}")
        scripts.append(script)
    return sorted(scripts, key=lambda s: (s.order, s.name))


def _tail(path: Path, lines: int = 12) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as text:
            return "".join(deque(text, maxlen=lines))
    except OSError:
        return ""


def _last_line(path: Path) -> str:
    tail = _tail(path, 3).strip().splitlines()
    return tail[-1][-90:] if tail else ""


def run_script(
    script: Script,
    mode: str,
    *,
    log_dir: Path,
    timeout: float,
    env: dict[str, str],
    on_output: Any = None,
) -> BenchResult:
    """Run one script to completion (or its timeout) and read its JSON document."""
    args = script.args(mode)
    if script.problem:
        return BenchResult(name=script.name, status="failed", reason=script.problem, args=args)
    log = log_dir / f"{script.name}.log"
    json_path = log_dir / f"{script.name}.json"
    json_path.unlink(missing_ok=True)
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(script.path), *args, "--json", str(json_path)],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = False
        while process.poll() is None:
            if time.monotonic() - started > timeout:
                timed_out = True
                _stop(process)
                break
            if on_output is not None:
                on_output(_last_line(log))
            time.sleep(0.5)
    seconds = time.monotonic() - started
    code = process.returncode
    base = {"name": script.name, "seconds": seconds, "args": args, "note": script.report}
    if timed_out:
        return BenchResult(status="failed", reason=f"timed out after {timeout:.0f} s", **base)
    if code == SKIP_EXIT:
        return BenchResult(status="skipped", reason=_last_line(log) or "skipped", **base)
    if code != 0:
        reason = f"exit code {code}; log {log}\n{_tail(log)}"
        return BenchResult(status="failed", reason=reason, **base)
    try:
        raw = json_path.read_text(encoding="utf-8")
        _, figures = parse_document(raw)
        series = parse_series(raw)
    except (OSError, ValueError, TypeError) as exc:
        return BenchResult(status="failed", reason=f"no valid JSON result: {exc}", **base)
    return BenchResult(status="ok", figures=figures, series=series, **base)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the script and whatever it started (its own process group)."""
    import signal

    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _command(args: list[str]) -> str:
    try:
        return subprocess.run(
            args, capture_output=True, text=True, timeout=10, check=True, cwd=REPO
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgres_version(url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        return f"unreachable ({type(exc).__name__})"
    return str(row[0]) if row else "unknown"


def _redis_version(url: str) -> str:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=5)
        return str(client.info("server")["redis_version"])
    except redis.RedisError as exc:
        return f"unreachable ({type(exc).__name__})"


def machine_info(env: dict[str, str]) -> dict[str, str]:
    import psutil

    commit = _command(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if _command(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git commit": commit,
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": _postgres_version(env["MERCATO_DATABASE_URL"]),
        "Redis": _redis_version(env["MERCATO_REDIS_URL"]),
        "load average at start": f"{load[0]:.2f} (1 min), {load[1]:.2f} (5 min)",
    }


def bench_environment() -> dict[str, str]:
    """The scripts' environment: the local servers unless MERCATO_* already says."""
    env = dict(os.environ)
    env.setdefault("MERCATO_DATABASE_URL", DEFAULT_SERVER)
    env.setdefault("MERCATO_REDIS_URL", DEFAULT_REDIS)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("COLUMNS", "120")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default=os.environ.get("BENCH_MODE") or "full")
    parser.add_argument("--only", nargs="*", default=None, help="script names to run")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--svg", type=Path, default=REPO / "docs" / "benchmarks.svg")
    parser.add_argument("--timeout", type=float, help="seconds per script (quick 600, full 3600)")
    args = parser.parse_args(argv)
    if args.mode not in MODES:
        parser.error(f"BENCH_MODE must be one of {', '.join(MODES)}")
    console = Console()
    scripts = discover()
    if args.only:
        unknown = set(args.only) - {s.name for s in scripts}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
        scripts = [s for s in scripts if s.name in args.only]
    timeout = args.timeout or (600.0 if args.mode == "quick" else 3600.0)
    env = bench_environment()
    machine = machine_info(env)
    log_dir = Path(tempfile.mkdtemp(prefix="mercato-bench-"))
    console.print(f"{len(scripts)} benchmarks, mode {args.mode}; logs in {log_dir}")
    results: list[BenchResult] = []
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("benchmarks", total=len(scripts))
        for script in scripts:
            current = progress.add_task(f"  {script.name}", total=None)

            def show(line: str, task: Any = current, name: str = script.name) -> None:
                progress.update(task, description=f"  {name}: [dim]{line}[/dim]")

            result = run_script(
                script, args.mode, log_dir=log_dir, timeout=timeout, env=env, on_output=show
            )
            progress.remove_task(current)
            style = {"ok": "green", "failed": "red", "skipped": "yellow"}[result.status]
            progress.console.print(
                f"[{style}]{result.status:7}[/{style}] {script.name} ({result.seconds:.0f} s)"
            )
            results.append(result)
            progress.advance(overall)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    chart = os.path.relpath(args.svg, args.out.parent)
    series_charts = {}
    for result in results:
        if result.series:
            path = args.svg.with_name(f"{args.svg.stem}-{result.name}.svg")
            title = f"{result.name}: p95 against offered rate ({args.mode})"
            path.write_text(render_series_svg(result.series, title=title))
            series_charts[result.name] = os.path.relpath(path, args.out.parent)
    args.out.write_text(
        render_markdown(results, machine, mode=args.mode, chart=chart, series_charts=series_charts)
    )
    args.svg.write_text(render_svg(results, title=f"Mercato benchmarks ({args.mode})"))
    counts = summary(results)
    console.print(
        f"wrote {args.out} and {args.svg}: {counts['ok']} ok, {counts['failed']} failed, "
        f"{counts['skipped']} skipped; targets {counts['met']} met, {counts['missed']} missed"
    )
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
