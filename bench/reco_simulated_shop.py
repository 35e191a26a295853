"""Offline evaluation of every strategy on the shop simulator's data, through the same
JSON Lines path as `mercato reco evaluate --dataset events`.

    .venv/bin/python bench/reco_simulated_shop.py [--products 500] [--users 5000] [--days 90]

Writes the demo shop's simulation (seed 42, the arguments `mercato serve --demo` seeds)
as JSON Lines under a temporary folder, then runs `mercato reco evaluate` on it; the
table prints most-popular and plain implicit ALS as in-run baselines.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results import Figure, add_json_option, figure, write_json

from mercato.simulation import generate_catalog, generate_locations, simulate

BENCH = {
    "order": 70,
    "quick": ["--users", "2000", "--days", "60"],
    "full": ["--products", "500", "--users", "5000", "--days", "90"],
}
END = datetime(2026, 11, 1, tzinfo=UTC)
BASELINES = ("most_popular", "implicit_als")


def report_figures(report: dict[str, Any]) -> list[Figure]:
    """Each strategy's NDCG@k and HR@k next to the same score of most-popular."""
    k = report["k"]
    scores = {row["method"]: row for row in report["scores"]}
    popular = scores["most_popular"]
    figures = []
    for method, row in scores.items():
        if method == "most_popular":
            continue
        for metric, label in (("ndcg", "NDCG"), ("hit_rate", "HR")):
            figures.append(
                figure(
                    f"{method} {label}@{k}",
                    row[metric],
                    "",
                    baseline=(f"most_popular {label}@{k}", popular[metric]),
                )
            )
    return figures


def write_simulation(folder: Path, products: int, users: int, days: int) -> tuple[Path, Path]:
    catalog = generate_catalog(products=products, seed=42, until=END)
    catalog_path, events_path = folder / "catalog.jsonl", folder / "events.jsonl"
    with catalog_path.open("w", encoding="utf-8") as lines:
        for product in catalog.products:
            lines.write(json.dumps(product, default=str) + "\n")
    stream = simulate(
        catalog=catalog,
        locations=generate_locations(42),
        days=days,
        users=users,
        seed=42,
        end=END,
    )
    with events_path.open("w", encoding="utf-8") as lines:
        for event in stream:
            lines.write(json.dumps(event, default=str) + "\n")
    return events_path, catalog_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--k", type=int, default=10)
    add_json_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mercato-sim-") as folder:
        events, catalog = write_simulation(Path(folder), args.products, args.users, args.days)
        command = [
            sys.executable,
            "-m",
            "mercato.cli",
            "reco",
            "evaluate",
            "--dataset",
            "events",
            str(events),
            "--catalog",
            str(catalog),
            "--k",
            str(args.k),
            "--out",
            str(Path(folder) / "report.json"),
        ]
        subprocess.run(command, check=True)
        report = json.loads((Path(folder) / "report.json").read_text())
    write_json(args.json, report_figures(report))


if __name__ == "__main__":
    main()
