"""The benchmark result format and its rendering (docs/benchmarks.md and the SVG chart).

Every benchmark script writes one JSON document with `--json PATH`:

    {"name": <script stem>, "figures": [{"name", "value", "unit", "baseline_name",
     "baseline_value", "ratio", "target", "met", "p50", "p95", "p99"}],
     "series": [{"group", "name", "points": [[x, y], ...], "budget", "x_unit", "y_unit"}]}

`series` is optional: curves such as p95 latency against offered rate, drawn by
`render_series_svg()` as one small panel per group (the capacity benchmark writes them).
`figure()` builds one entry (the ratio is value / baseline, computed here so every script
computes it the same way); `add_json_option()` and `write_json()` give each script the
`--json` option. `bench/run_all.py` collects the documents and renders them with
`render_markdown()` and `render_svg()`; this module is plain functions over plain data,
so tests can check the rendering without running a benchmark.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

STATUSES = ("ok", "failed", "skipped")
EMPTY = "-"


@dataclass(frozen=True)
class Figure:
    """One measured figure, next to the in-run baseline it is compared with."""

    name: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True)
class Series:
    """One curve of a chart panel: `points` are (x, y); `budget` a horizontal line at y."""

    group: str
    name: str
    points: list[tuple[float, float]]
    budget: float | None = None
    x_unit: str = "req/s"
    y_unit: str = "ms"


@dataclass(frozen=True)
class BenchResult:
    """What one benchmark script produced in one run of the runner."""

    name: str
    status: str
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0
    reason: str | None = None
    args: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    note: str | None = None  # the script's REPORT text, shown under its heading


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    baseline: tuple[str, float] | None = None,
    target: str | None = None,
    met: bool | None = None,
    percentiles: tuple[float, float, float] | None = None,
) -> Figure:
    """A figure with its ratio to the baseline (value / baseline value) filled in."""
    baseline_name, baseline_value = baseline if baseline else (None, None)
    ratio = None
    if baseline_value is not None and baseline_value != 0:
        ratio = float(value) / float(baseline_value)
    p50, p95, p99 = percentiles if percentiles else (None, None, None)
    return Figure(
        name=name,
        value=float(value),
        unit=unit,
        baseline_name=baseline_name,
        baseline_value=None if baseline_value is None else float(baseline_value),
        ratio=ratio,
        target=target,
        met=met,
        p50=None if p50 is None else float(p50),
        p95=None if p95 is None else float(p95),
        p99=None if p99 is None else float(p99),
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the figures there as JSON"
    )


def document(name: str, figures: Sequence[Figure], series: Sequence[Series] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "figures": [asdict(f) for f in figures]}
    if series:
        data["series"] = [asdict(s) for s in series]
    return data


def write_json(
    path: Path | None,
    figures: Sequence[Figure],
    name: str | None = None,
    *,
    series: Sequence[Series] = (),
) -> None:
    """Write the figures (and curves) as the runner's JSON document (nothing without a path)."""
    if path is None:
        return
    stem = name or Path(sys.argv[0]).stem
    text = json.dumps(document(stem, figures, series), indent=2, allow_nan=False)
    path.write_text(text + "\n")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_series(raw: str) -> list[Series]:
    """The optional curves of a JSON document; raises ValueError on a malformed one."""
    entries = json.loads(raw).get("series", [])
    if not isinstance(entries, list):
        raise ValueError("series is not a list")
    series = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("points"), list):
            raise ValueError(f"series {number} has no points list")
        points = entry["points"]
        if not all(
            isinstance(point, list) and len(point) == 2 and all(map(_number, point))
            for point in points
        ):
            raise ValueError(f"series {number} has a point that is not [x, y]")
        budget = entry.get("budget")
        series.append(
            Series(
                group=str(entry.get("group", "")),
                name=str(entry.get("name", "")),
                points=[(float(x), float(y)) for x, y in points],
                budget=float(budget) if _number(budget) else None,
                x_unit=str(entry.get("x_unit", "req/s")),
                y_unit=str(entry.get("y_unit", "ms")),
            )
        )
    return series


def parse_document(raw: str) -> tuple[str, list[Figure]]:
    """Read one script's JSON document; raises ValueError when it is not one."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ValueError("the document has no name")
    entries = data.get("figures")
    if not isinstance(entries, list):
        raise ValueError("the document has no figures list")
    known = {f.name for f in fields(Figure)}
    figures = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"figure {number} is not an object")
        missing = {"name", "value", "unit"} - entry.keys()
        if missing:
            raise ValueError(f"figure {number} lacks {', '.join(sorted(missing))}")
        if not isinstance(entry["value"], int | float) or isinstance(entry["value"], bool):
            raise ValueError(f"figure {number} value is not a number")
        # Fields beyond the convention are left out rather than failing the benchmark.
        figures.append(Figure(**{key: entry[key] for key in entry.keys() & known}))
    return data["name"], figures


def format_value(value: float | None, unit: str = "") -> str:
    """A figure for a table: thousands separators, 3 significant digits below 100."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return EMPTY
    magnitude = abs(value)
    if magnitude >= 100:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    elif magnitude == 0:
        text = "0"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return EMPTY
    if abs(ratio) >= 100:
        return f"{ratio:,.0f}x"
    return f"{ratio:.3g}x"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: EMPTY}[met]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def figure_row(item: Figure) -> str:
    baseline = EMPTY
    if item.baseline_name:
        baseline = f"{item.baseline_name}: {format_value(item.baseline_value, item.unit)}"
    cells = [
        item.name,
        f"**{format_value(item.value, item.unit)}**",
        baseline,
        format_ratio(item.ratio),
        format_value(item.p50),
        format_value(item.p95),
        format_value(item.p99),
        item.target or EMPTY,
        verdict(item.met),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


HEADER = (
    "| figure | value | in-run baseline | ratio | p50 | p95 | p99 | target | verdict |\n"
    "|---|---:|---|---:|---:|---:|---:|---|---|"
)


def summary(results: Sequence[BenchResult]) -> dict[str, int]:
    """Counts of scripts by status and of targets met and missed."""
    counts = {status: 0 for status in STATUSES}
    counts.update(met=0, missed=0)
    for result in results:
        counts[result.status] += 1
        for item in result.figures:
            if item.met is True:
                counts["met"] += 1
            elif item.met is False:
                counts["missed"] += 1
    return counts


def render_markdown(
    results: Sequence[BenchResult],
    machine: dict[str, str],
    *,
    mode: str,
    chart: str | None = "benchmarks.svg",
    series_charts: dict[str, str] | None = None,
) -> str:
    """docs/benchmarks.md: the machine, a summary, then one table per benchmark.

    A benchmark's REPORT note comes under its heading; `series_charts` maps a benchmark
    to the file of its curves (`render_series_svg`), shown after its table.
    """
    counts = summary(results)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`BENCH_MODE={mode}`, `bench/run_all.py`). Every figure "
        "stands next to a baseline measured in the same run on the same machine; the ratio "
        "is figure / baseline. Percentiles are in the figure's time unit (ms unless the "
        "table says otherwise). What the profiles showed and what limits each hot path: "
        "[performance.md](performance.md). How to add a benchmark: `bench/README.md`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {_cell(key)} | {_cell(value)} |" for key, value in machine.items()),
        "",
        "## Summary",
        "",
        f"{len(results)} benchmarks: {counts['ok']} ran, {counts['failed']} failed, "
        f"{counts['skipped']} skipped; {counts['met']} targets met, "
        f"{counts['missed']} missed.",
        "",
        "| benchmark | status | seconds | arguments |",
        "|---|---|---:|---|",
    ]
    for result in results:
        status = result.status if result.status == "ok" else f"**{result.status}**"
        arguments = f"`{' '.join(result.args)}`" if result.args else EMPTY
        lines.append(
            f"| [{result.name}](#{result.name}) | {status} | "
            f"{result.seconds:.0f} | {_cell(arguments)} |"
        )
    if chart:
        lines += ["", f"![figures against their in-run baselines]({chart})"]
    for result in results:
        lines += ["", f"## {result.name}", ""]
        lines.append(f"`bench/{result.name}.py` — {result.status}, {result.seconds:.0f} s.")
        if result.note:
            lines += ["", result.note.strip()]
        if result.reason:
            lines += ["", "```", result.reason.strip(), "```"]
        if result.figures:
            lines += ["", HEADER, *(figure_row(item) for item in result.figures)]
        if series_charts and result.name in series_charts:
            lines += ["", f"![{result.name}: curves]({series_charts[result.name]})"]
    return "\n".join(lines) + "\n"


BAR_HEIGHT, ROW_GAP, LABEL_WIDTH, PLOT_WIDTH, VALUE_WIDTH = 16, 6, 360, 300, 90
COLOURS = {True: "#2e7d32", False: "#c62828", None: "#546e7a"}


def _chart_rows(results: Sequence[BenchResult]) -> list[tuple[str, Figure]]:
    return [
        (f"{result.name}: {item.name}", item)
        for result in results
        for item in result.figures
        if item.ratio is not None and item.ratio > 0 and math.isfinite(item.ratio)
    ]


def render_svg(results: Sequence[BenchResult], *, title: str = "Benchmarks") -> str:
    """A horizontal bar per figure with a baseline: its ratio on a log scale around 1x.

    Green met its target, red missed it, grey has no target. A log scale puts 0.1x and
    10x the same distance from the baseline, which a linear axis could not show together.
    """
    rows = _chart_rows(results)
    exponents = [math.log10(item.ratio) for _, item in rows if item.ratio]
    low = math.floor(min([*exponents, -1.0]))
    high = math.ceil(max([*exponents, 1.0]))
    top = 40
    height = top + len(rows) * (BAR_HEIGHT + ROW_GAP) + 40
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH

    def x(exponent: float) -> float:
        return LABEL_WIDTH + PLOT_WIDTH * (exponent - low) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" '
        'role="img" aria-labelledby="bench-title">',
        f'<title id="bench-title">{escape(title)}</title>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}: '
        "ratio to the in-run baseline (log scale)</text>",
        f'<text x="8" y="32" fill="#555">green: target met · red: missed · grey: no '
        f"target · {len(rows)} figures</text>",
    ]
    axis_bottom = top + len(rows) * (BAR_HEIGHT + ROW_GAP)
    for exponent in range(low, high + 1):
        position = x(exponent)
        stroke = "#333" if exponent == 0 else "#ddd"
        parts.append(
            f'<line x1="{position:.1f}" y1="{top - 4}" x2="{position:.1f}" '
            f'y2="{axis_bottom}" stroke="{stroke}"/>'
        )
        parts.append(
            f'<text x="{position:.1f}" y="{axis_bottom + 14}" text-anchor="middle">'
            f"{format_ratio(10.0**exponent)}</text>"
        )
    for number, (label, item) in enumerate(rows):
        y = top + number * (BAR_HEIGHT + ROW_GAP)
        exponent = math.log10(item.ratio or 1.0)
        start, end = sorted((x(0), x(exponent)))
        colour = COLOURS[item.met]
        description = (
            f"{label}: {format_value(item.value, item.unit)}, "
            f"{format_ratio(item.ratio)} of {item.baseline_name}"
        )
        parts += [
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 4}" text-anchor="end">'
            f"{escape(_shorten(label, 58))}</text>",
            f'<rect x="{start:.1f}" y="{y}" width="{max(end - start, 1.0):.1f}" '
            f'height="{BAR_HEIGHT}" fill="{colour}"><title>{escape(description)}</title></rect>',
            f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{y + BAR_HEIGHT - 4}">'
            f"{format_ratio(item.ratio)}</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


PANEL_WIDTH, PANEL_HEIGHT, PANEL_COLUMNS = 380, 240, 2
PANEL_MARGIN = {"left": 52, "right": 14, "top": 34, "bottom": 38}
SERIES_COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f")


def _log_range(values: Sequence[float]) -> tuple[float, float]:
    """Exponents (base 10) spanning `values`, widened to whole decades."""
    positive = [v for v in values if v > 0] or [1.0]
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    return float(low), float(max(high, low + 1))


def _ticks(low: float, high: float) -> list[float]:
    steps = (1, 2, 5) if high - low <= 2 else (1,)
    return [
        step * 10.0**exponent
        for exponent in range(int(low), int(high) + 1)
        for step in steps
        if low <= math.log10(step * 10.0**exponent) <= high
    ]


def _tick_label(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def render_series_svg(series: Sequence[Series], *, title: str) -> str:
    """One panel per group: each series' points joined by a line, on log-log axes, with
    the group's budget as a dashed red line (a point above it broke the budget)."""
    groups: dict[str, list[Series]] = {}
    for item in series:
        groups.setdefault(item.group, []).append(item)
    names = list(dict.fromkeys(item.name for item in series))
    colour = {name: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, name in enumerate(names)}
    rows = math.ceil(len(groups) / PANEL_COLUMNS) or 1
    width, height = PANEL_COLUMNS * PANEL_WIDTH, 50 + rows * PANEL_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" '
        'role="img" aria-labelledby="series-title">',
        f'<title id="series-title">{escape(title)}</title>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    legend_x = 8
    for name in names:
        parts.append(
            f'<line x1="{legend_x}" y1="34" x2="{legend_x + 18}" y2="34" '
            f'stroke="{colour[name]}" stroke-width="2"/>'
            f'<text x="{legend_x + 22}" y="38">{escape(name)}</text>'
        )
        legend_x += 30 + 7 * len(name)
    parts.append(
        f'<line x1="{legend_x}" y1="34" x2="{legend_x + 18}" y2="34" stroke="#c62828" '
        f'stroke-dasharray="4 3"/><text x="{legend_x + 22}" y="38">budget (p95)</text>'
    )
    plot_w = PANEL_WIDTH - PANEL_MARGIN["left"] - PANEL_MARGIN["right"]
    plot_h = PANEL_HEIGHT - PANEL_MARGIN["top"] - PANEL_MARGIN["bottom"]
    for index, (group, members) in enumerate(groups.items()):
        left = (index % PANEL_COLUMNS) * PANEL_WIDTH + PANEL_MARGIN["left"]
        top = 50 + (index // PANEL_COLUMNS) * PANEL_HEIGHT + PANEL_MARGIN["top"]
        xs = [x for item in members for x, _ in item.points]
        budgets = [item.budget for item in members if item.budget]
        ys = [y for item in members for _, y in item.points] + budgets
        x_low, x_high = _log_range(xs)
        y_low, y_high = _log_range(ys)

        def px(value: float, low: float = x_low, high: float = x_high, at: float = left) -> float:
            return at + plot_w * (math.log10(max(value, 1e-9)) - low) / (high - low)

        def py(value: float, low: float = y_low, high: float = y_high, at: float = top) -> float:
            return at + plot_h * (1 - (math.log10(max(value, 1e-9)) - low) / (high - low))

        unit_x, unit_y = members[0].x_unit, members[0].y_unit
        parts += [
            f'<text x="{left - 40}" y="{top - 10}" font-size="12" font-weight="bold">'
            f"{escape(group)}</text>",
            f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
            'stroke="#999"/>',
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 30}" text-anchor="middle" '
            f'fill="#555">offered {escape(unit_x)}</text>',
            f'<text x="{left - 40}" y="{top + plot_h / 2:.1f}" fill="#555" '
            f'transform="rotate(-90 {left - 40} {top + plot_h / 2:.1f})" '
            f'text-anchor="middle">p95 {escape(unit_y)}</text>',
        ]
        for tick in _ticks(x_low, x_high):
            parts.append(
                f'<line x1="{px(tick):.1f}" y1="{top}" x2="{px(tick):.1f}" y2="{top + plot_h}" '
                f'stroke="#eee"/><text x="{px(tick):.1f}" y="{top + plot_h + 13}" '
                f'text-anchor="middle">{_tick_label(tick)}</text>'
            )
        for tick in _ticks(y_low, y_high):
            parts.append(
                f'<line x1="{left}" y1="{py(tick):.1f}" x2="{left + plot_w}" y2="{py(tick):.1f}" '
                f'stroke="#eee"/><text x="{left - 4}" y="{py(tick) + 3:.1f}" '
                f'text-anchor="end">{_tick_label(tick)}</text>'
            )
        for budget in sorted(set(budgets)):
            parts.append(
                f'<line x1="{left}" y1="{py(budget):.1f}" x2="{left + plot_w}" '
                f'y2="{py(budget):.1f}" stroke="#c62828" stroke-dasharray="4 3"/>'
            )
        for item in members:
            coordinates = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in item.points)
            parts.append(
                f'<polyline points="{coordinates}" fill="none" stroke="{colour[item.name]}" '
                'stroke-width="2"/>'
            )
            for x, y in item.points:
                parts.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" '
                    f'fill="{colour[item.name]}"><title>{escape(item.name)}: '
                    f"{format_value(x, unit_x)} offered, p95 {format_value(y, unit_y)}"
                    "</title></circle>"
                )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
