"""`mercato reco …`: offline evaluation of the recommendation strategies.

Heavy imports (numpy, scipy, implicit) happen inside the commands so that the rest of
the `mercato` command starts fast.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mercato.settings import get_settings

if TYPE_CHECKING:
    from mercato.modules.recommendations.bootstrap import Difference
    from mercato.modules.recommendations.evaluation import HoldoutReport
    from mercato.modules.recommendations.next_item import NextItemReport, NextItemScores

reco_app = typer.Typer(
    name="reco", help="Recommendation models: fitting and offline evaluation.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

BASELINES = ("most_popular", "implicit_als")


class Dataset(StrEnum):
    yoochoose = "yoochoose"
    events = "events"
    sessions = "sessions"


def _report_path(out: Path | None, dataset: str) -> Path:
    if out is not None:
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return get_settings().data_dir / "evaluations" / f"{dataset}-{stamp}.json"


def _save(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    console.print(f"saved [bold]{path}[/bold]")


def _interval(value: float, bounds: tuple[float, float]) -> str:
    return f"{value:.4f} [{bounds[0]:.4f}, {bounds[1]:.4f}]"


def _next_item_table(title: str, rows: list[NextItemScores], k: int) -> Table:
    table = Table(title=title)
    table.add_column("method")
    for column in (f"HR@{k} [95% CI]", f"MRR@{k} [95% CI]", "coverage", "queries", "ms/query"):
        table.add_column(column, justify="right")
    for row in rows:
        style = (
            "bold green" if row.method == "auto" else ("cyan" if row.method in BASELINES else "")
        )
        table.add_row(
            row.method,
            _interval(row.hit_rate, row.hit_rate_interval),
            _interval(row.mrr, row.mrr_interval),
            f"{row.coverage:.3f}",
            f"{row.queries:,}",
            f"{row.milliseconds_per_query:.3f}",
            style=style,
        )
    return table


def _differences_table(differences: list[Difference]) -> Table:
    table = Table(title="auto minus … (paired bootstrap over sessions, 95% CI)")
    for column in ("against", "measure", "difference [95% CI]", "verdict"):
        table.add_column(column, justify="left" if column in ("against", "verdict") else "right")
    for row in differences:
        colour = {"better": "green", "worse": "red"}.get(row.verdict, "yellow")
        table.add_row(
            row.against,
            row.measure,
            f"{row.difference:+.4f} [{row.low:+.4f}, {row.high:+.4f}]",
            f"[{colour}]{row.verdict}[/{colour}]",
        )
    return table


def _print_next_item(report: NextItemReport) -> None:
    console.print(
        f"{report.dataset}: {report.train_events:,} training clicks on "
        f"{report.train_products:,} products; {report.test_sessions:,} test sessions, "
        f"{report.positions:,} positions ({report.unseen_targets:,} targets unseen in training)"
    )
    choice = report.auto_choice
    if choice is not None:
        weights = ", ".join(f"{name} {value:g}" for name, value in choice.weights.items() if value)
        console.print(
            f"auto's weights ({choice.outcome}, chosen on {choice.positions:,} held-out "
            f"positions of the training part in {choice.seconds:.1f}s): {weights or 'defaults'}"
        )
    readings = (
        ("all clicks (the published protocol)", report.all_clicks, report.all_clicks_differences),
        (
            "product page (product on screen excluded, repeat clicks skipped)",
            report.product_page,
            report.product_page_differences,
        ),
    )
    for title, rows, differences in readings:
        console.print(_next_item_table(title, rows, report.k))
        console.print(_differences_table(differences))
        baselines = [row for row in differences if row.against in BASELINES]
        safe = all(row.high >= 0 for row in baselines)
        verdict = (
            "[green]at or above both baselines on both measures (or within noise)[/green]"
            if safe
            else "[red]below a baseline beyond noise[/red]"
        )
        console.print(f"auto: {verdict}")
    fits = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in report.fit_seconds.items())
    console.print(f"fit: {fits}")


def _print_holdout(report: HoldoutReport) -> None:
    console.print(
        f"{report.dataset}: {report.train_events:,} training events, "
        f"{report.test_events:,} in the last {report.holdout_days:g} days; "
        f"{report.users:,} returning shoppers evaluated"
    )
    k = report.k
    table = Table(title=f"temporal holdout, 'for you' query, k={k}")
    table.add_column("method")
    for column in (f"HR@{k}", f"NDCG@{k}", f"MAP@{k}", "coverage", "ms/query"):
        table.add_column(column, justify="right")
    for row in report.scores:
        table.add_row(
            row.method,
            f"{row.hit_rate:.4f}",
            f"{row.ndcg:.4f}",
            f"{row.map:.4f}",
            f"{row.coverage:.3f}",
            f"{row.milliseconds_per_query:.3f}",
            style="cyan" if row.method in BASELINES else "",
        )
    console.print(table)


@reco_app.command()
def evaluate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="yoochoose: the folder with the train/test files (or the train file); "
            "events, sessions: a JSON Lines file of tracking events"
        ),
    ] = None,
    dataset: Annotated[Dataset, typer.Option(help="What PATH holds")] = Dataset.yoochoose,
    k: Annotated[int | None, typer.Option(help="List length (default 20 / 10)")] = None,
    catalog: Annotated[
        Path | None, typer.Option(help="events: a JSON Lines file of catalog products")
    ] = None,
    holdout_days: Annotated[
        float, typer.Option(help="events, sessions: days held out (sessions: at most a fifth)")
    ] = 7.0,
    out: Annotated[
        Path | None, typer.Option(help="Where to save the JSON report (default: DATA_DIR)")
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(help="Evaluate a tenant's events and catalog from the database (id or slug)"),
    ] = None,
) -> None:
    """Score every strategy and two baselines (most-popular, implicit ALS) offline.

    yoochoose and sessions: next-click prediction inside visits, with 95 % bootstrap
    intervals and auto's differences to the baselines; events and --tenant: a "for
    you" list per returning shopper over the last days."""
    if tenant is not None:
        from mercato.modules.recommendations.evaluation import evaluate_holdout
        from mercato.modules.recommendations.fit_command import UnknownTenantError, read_tenant

        try:
            events, products = read_tenant(tenant)
        except UnknownTenantError as unknown:
            errors.print(f"[red]{unknown}[/red]")
            raise typer.Exit(code=2) from unknown
        report = evaluate_holdout(
            events, products, holdout_days=holdout_days, k=k or 10, dataset=f"tenant {tenant}"
        )
        _print_holdout(report)
        _save(asdict(report), _report_path(out, f"tenant-{tenant}"))
        return
    if path is None:
        errors.print("[red]PATH is required[/red] (see --help)")
        raise typer.Exit(code=2)
    if dataset is Dataset.yoochoose:
        from mercato.modules.recommendations.next_item import evaluate_next_item
        from mercato.modules.recommendations.yoochoose import read_sample

        try:
            sample = read_sample(path)
        except FileNotFoundError as missing:
            errors.print(f"[red]{missing}[/red]")
            raise typer.Exit(code=2) from missing
        next_item = evaluate_next_item(sample.train, sample.test, k=k or 20, dataset="yoochoose")
        _print_next_item(next_item)
        _save(asdict(next_item), _report_path(out, dataset.value))
        return
    from mercato.modules.recommendations.event_files import read_catalog_lines, read_event_lines

    if dataset is Dataset.sessions:
        from mercato.modules.recommendations.next_item import evaluate_sessions

        sessions = evaluate_sessions(
            read_event_lines(path), holdout_days=holdout_days, k=k or 20, dataset=path.name
        )
        _print_next_item(sessions)
        _save(asdict(sessions), _report_path(out, dataset.value))
        return
    from mercato.modules.recommendations.evaluation import evaluate_holdout

    holdout = evaluate_holdout(
        read_event_lines(path),
        read_catalog_lines(catalog) if catalog else None,
        holdout_days=holdout_days,
        k=k or 10,
        dataset=path.name,
    )
    _print_holdout(holdout)
    _save(asdict(holdout), _report_path(out, dataset.value))


@reco_app.command()
def fit(
    tenant: Annotated[str, typer.Option(help="The tenant's id or slug")],
    events: Annotated[
        Path | None, typer.Option(help="Fit from a JSON Lines file of events instead")
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option(help="With --events: a JSON Lines file of products")
    ] = None,
    force: Annotated[bool, typer.Option(help="Fit even when nothing changed")] = False,
) -> None:
    """Fit a new version of a tenant's model now (the worker does it every 15 minutes)."""
    from mercato.modules.recommendations.fit_command import UnknownTenantError, run_fit

    try:
        run_fit(tenant, events=events, catalog=catalog, force=force, console=console)
    except UnknownTenantError as unknown:
        errors.print(f"[red]{unknown}[/red]")
        raise typer.Exit(code=2) from unknown


class ShapeOption(StrEnum):
    repeats = "repeats"
    baskets = "baskets"


@reco_app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="The JSON Lines file of events to write")],
    shape: Annotated[
        ShapeOption, typer.Option(help="repeats: click sessions; baskets: retail invoices")
    ],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same shop)")] = 42,
    size: Annotated[float, typer.Option(help="Scale of products and visits", min=0.01)] = 1.0,
) -> None:
    """Write a generated shop of one shape as tracking events (see `shop_shapes`)."""
    from mercato.modules.recommendations.shop_shapes import Shape, generate_file

    written = generate_file(Shape(shape.value), seed, out, size=size)
    console.print(f"wrote [bold]{out}[/bold]: {written:,} events")
