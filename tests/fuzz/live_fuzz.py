"""`make fuzz`: the schemathesis CLI against a live `mercato serve`, as an owner and as a key.

A deployment with its own embedded PostgreSQL and Redis is made in a temporary directory,
migrated and served on a free loopback port. Two merchants sign up through the API; the
whole OpenAPI schema is then fuzzed twice with `tests/fuzz/schemathesis.toml`: with the
first merchant's staff token (owner) and with the second one's read_write secret key.
The run fails if either finds a failure (server errors, responses off their schema,
errors that are not problem+json …) or if together they generated fewer test cases
than `--min-cases`.

    .venv/bin/python -m tests.fuzz.live_fuzz [--max-examples 10] [--seed 20261123]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from tests.hardening.live import Deployment, Server
from tests.hardening.merchant import Merchant, open_merchant

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
console = Console()


def fuzz(
    server: Server, merchant: Merchant, header: str, report: Path, args: argparse.Namespace
) -> int:
    """One schemathesis run; returns the number of generated test cases (raises on failure)."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        "--header",
        header,
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        # One worker: with two, schemathesis' coverage phase sometimes dies inside CPython
        # 3.11's AST constructor ("recursion depth mismatch"), a race between its threads.
        "--workers",
        "1",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    env = {**os.environ, "MERCATO_FUZZ_TENANT": merchant.tenant_id}
    code = subprocess.call(command, env=env)
    if not report.exists():
        raise SystemExit(f"schemathesis stopped before reporting (exit {code})")
    generated = int(json.loads(report.read_text())["test_cases"]["generated"])
    if code != 0:
        raise SystemExit(f"schemathesis failed (exit {code}); server log: {server.log_path}")
    return generated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--min-cases", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mercato-fuzz-") as folder:
        deployment = Deployment.embedded(Path(folder) / "data")
        try:
            console.print("[bold]migrating and starting a live server…[/bold]")
            deployment.run("migrate")
            server = deployment.serve("api")
            owner = open_merchant(server.url, "fuzz-owner")
            keyholder = open_merchant(server.url, "fuzz-key")
            runs = [
                ("staff token (owner)", owner, f"Authorization: Bearer {owner.token}"),
                ("API key (secret, read_write)", keyholder, f"X-API-Key: {keyholder.api_key}"),
            ]
            totals = []
            for number, (label, merchant, header) in enumerate(runs):
                console.rule(label)
                report = Path(folder) / f"report-{number}.json"
                totals.append(fuzz(server, merchant, header, report, args))
        finally:
            deployment.close()

    total = sum(totals)
    console.print(
        f"[green]fuzzing passed[/green]: {' + '.join(map(str, totals))} = {total} "
        "generated test cases, no failure"
    )
    if total < args.min_cases:
        raise SystemExit(f"only {total} test cases were generated; at least {args.min_cases}")


if __name__ == "__main__":
    main()
