"""How fast the dashboard's pages render on the demo data (budget: 300 ms each).

Start the demo first (`make demo`, or `mercato serve --demo --port N` with a data
directory), then:

    .venv/bin/python bench/dashboard_pages.py [--url http://127.0.0.1:8000] [--data-dir .mercato]

It logs in through the login form with the demo credentials, requests every page
`--rounds` times one after another, and prints p50/p95 next to `/health` (an endpoint
that does no work) in the same run, as a ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

BUDGET_MS = 300.0
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def timed(client: httpx.Client, url: str, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def log_in(client: httpx.Client, data_dir: Path) -> str:
    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    form = client.get("/app/login")
    match = CSRF.search(form.text)
    assert match, "the login page has no CSRF token"
    login = client.post(
        "/app/login", data={**credentials, "csrf_token": match.group(1), "next": "/app"}
    )
    assert login.status_code == 303, f"login failed: {login.status_code}"
    return str(client.get("/app").headers["location"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--data-dir", type=Path, default=Path(".mercato"))
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    with httpx.Client(base_url=args.url, follow_redirects=False, timeout=10) as client:
        home = log_in(client, args.data_dir)
        pages = {
            "login page": "/app/login",
            "overview": home,
            "members": f"{home}/settings/members",
            "locations": f"{home}/locations",
            "API keys": f"{home}/settings/api-keys",
            "webhooks": f"{home}/settings/webhooks",
            "audit log": f"{home}/settings/audit",
            # capability screens (dashboard helper)
            "products": f"{home}/catalog/products",
            "product search": f"{home}/catalog/products?q=sofa&available=true",
            "categories": f"{home}/catalog/categories",
            "import products": f"{home}/catalog/import",
            "experiments": f"{home}/personalization/experiments",
            "widget editor": f"{home}/personalization/widgets",
            "recommendations": f"{home}/personalization/recommendations",
            "Google channels": f"{home}/channels",
            "business profile": f"{home}/business-profile",
            "tracking calendar": f"{home}/tracking",
            "event explorer": f"{home}/events",
            "integrations": f"{home}/settings/integrations",
        }
        baseline = statistics.median(timed(client, "/health", args.rounds))
        table = Table(title=f"dashboard pages, {args.rounds} requests each (ms)")
        for column in ("page", "p50", "p95", "p50 / health", "within 300 ms"):
            table.add_column(column, justify="left" if column == "page" else "right")
        table.add_row("/health (baseline)", f"{baseline:.1f}", "", "1.0", "")
        for name, url in pages.items():
            samples = sorted(timed(client, url, args.rounds))
            p50 = statistics.median(samples)
            p95 = samples[int(0.95 * (len(samples) - 1))]
            within = "yes" if p95 < BUDGET_MS else "NO"
            table.add_row(name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / baseline:.1f}", within)
    Console().print(table)


if __name__ == "__main__":
    main()
