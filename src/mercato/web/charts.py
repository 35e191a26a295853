"""Charts drawn on the server as SVG: line (time series), bar (per bucket) and funnel.

No JavaScript and no chart library in the browser: a chart is markup like any other,
styled by the theme's CSS classes, readable by screen readers (a `<title>`, a `<desc>`
summarising the data, and a `<title>` on every mark for pointer hover).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 480, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 52, 12, 12, 30
MAX_X_LABELS = 6

Series = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class Frame:
    """The plotting area and the value scale of one chart."""

    top: float
    ticks: list[float]

    @property
    def width(self) -> float:
        return WIDTH - PAD_LEFT - PAD_RIGHT

    @property
    def height(self) -> float:
        return HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(self, value: float) -> float:
        return PAD_TOP + self.height * (1 - (value / self.top if self.top else 0))


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10ⁿ at or above `value` (0 stays 0)."""
    if value <= 0:
        return 0.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _frame(values: Sequence[float]) -> Frame:
    top = nice_ceiling(max(values, default=0.0)) or 1.0
    if top < 4 and all(float(v).is_integer() for v in values):
        top = 4.0  # counts: whole-number gridlines, never "0.25 orders"
    return Frame(top=top, ticks=[top * i / 4 for i in range(5)])


def format_number(value: float, unit: str = "") -> str:
    if abs(value) >= 1_000_000:
        text = f"{value / 1_000_000:.1f}M"
    elif abs(value) >= 10_000:
        text = f"{value / 1_000:.1f}k"
    elif value == int(value):
        text = f"{int(value):,}"
    else:
        text = f"{value:,.2f}"
    return f"{text}{unit}"


def _chart_id(kind: str, title: str, series: Series) -> str:
    digest = hashlib.sha256(repr((kind, title, list(series))).encode()).hexdigest()
    return f"chart-{digest[:10]}"


def _summary(series: Series, unit: str) -> str:
    values = [v for _, v in series]
    low = min(range(len(values)), key=values.__getitem__)
    high = max(range(len(values)), key=values.__getitem__)
    return (
        f"{len(values)} points from {series[0][0]} to {series[-1][0]}; "
        f"lowest {format_number(values[low], unit)} ({series[low][0]}), "
        f"highest {format_number(values[high], unit)} ({series[high][0]}), "
        f"total {format_number(sum(values), unit)}."
    )


def _open(kind: str, chart_id: str, title: str, description: str) -> list[str]:
    return [
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]


def _grid(frame: Frame, unit: str) -> list[str]:
    parts = []
    for tick in frame.ticks:
        y = frame.y(tick)
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(format_number(tick, unit))}</text>"
        )
    return parts


def _x_labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    return [
        f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % every == 0
    ]


def _svg(parts: list[str]) -> Markup:
    """Close and mark safe: every text and attribute inside went through `escape`."""
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704


def _empty(title: str) -> Markup:
    return Markup('<p class="empty-state chart-empty">{}: no data for this period.</p>').format(
        title
    )


def line_chart(series: Series, *, title: str, unit: str = "") -> Markup:
    """A time series as a line with a marker per point."""
    if not series:
        return _empty(title)
    chart_id = _chart_id("line", title, series)
    frame = _frame([v for _, v in series])
    step = frame.width / max(1, len(series) - 1)
    xs = [PAD_LEFT + (i * step if len(series) > 1 else frame.width / 2) for i in range(len(series))]
    coords = [(x, frame.y(v)) for x, (_, v) in zip(xs, series, strict=True)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = _open("line", chart_id, title, _summary(series, unit))
    parts += _grid(frame, unit)
    parts.append(f'<polyline class="series" points="{path}"/>')
    for (x, y), (label, value) in zip(coords, series, strict=True):
        parts.append(
            f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(label)}: {escape(format_number(value, unit))}</title></circle>"
        )
    parts += _x_labels([label for label, _ in series], xs)
    return _svg(parts)


def bar_chart(series: Series, *, title: str, unit: str = "") -> Markup:
    """One bar per bucket (a day, a location, a product)."""
    if not series:
        return _empty(title)
    chart_id = _chart_id("bar", title, series)
    frame = _frame([v for _, v in series])
    slot = frame.width / len(series)
    bar = max(1.0, slot * 0.7)
    parts = _open("bar", chart_id, title, _summary(series, unit))
    parts += _grid(frame, unit)
    centres = []
    for i, (label, value) in enumerate(series):
        centre = PAD_LEFT + slot * i + slot / 2
        centres.append(centre)
        y = frame.y(value)
        parts.append(
            f'<rect class="mark" x="{centre - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{PAD_TOP + frame.height - y:.1f}">'
            f"<title>{escape(label)}: {escape(format_number(value, unit))}</title></rect>"
        )
    parts += _x_labels([label for label, _ in series], centres)
    return _svg(parts)


def funnel_chart(steps: Series, *, title: str) -> Markup:
    """Steps of a conversion path, each bar as wide as its share of the first step."""
    if not steps or steps[0][1] <= 0:
        return _empty(title)
    chart_id = _chart_id("funnel", title, steps)
    first = steps[0][1]
    row = (HEIGHT - PAD_TOP) / len(steps)
    usable = WIDTH - 2 * PAD_RIGHT
    rates = [
        f"{label} {format_number(value)} ({value / first:.0%} of {steps[0][0]})"
        for label, value in steps
    ]
    parts = _open("funnel", chart_id, title, "; ".join(rates) + ".")
    previous = first
    for i, (label, value) in enumerate(steps):
        width = max(2.0, usable * value / first)
        x = (WIDTH - width) / 2
        y = PAD_TOP / 2 + row * i
        step_rate = f", {value / previous:.0%} of the step before" if i else ""
        parts.append(
            f'<rect class="mark step-{i % 6}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{row * 0.8:.1f}" rx="3"><title>{escape(label)}: '
            f"{escape(format_number(value))}{escape(step_rate)}</title></rect>"
            f'<text class="funnel-label" x="{WIDTH / 2}" y="{y + row * 0.45:.1f}" '
            f'text-anchor="middle">{escape(label)} · {escape(format_number(value))} '
            f"({value / first:.0%})</text>"
        )
        previous = value or 1
    return _svg(parts)


CI_HEIGHT = 90


def interval_chart(low: float, high: float, point: float, *, title: str) -> Markup:
    """A confidence interval of a relative lift as a bar around 0 (0.12 = +12 %).

    The bar is green when the whole interval is above zero, red when below, neutral when it
    crosses zero; the point estimate is a dot and zero a dashed line.
    """
    chart_id = _chart_id("interval", title, [("low", low), ("high", high), ("point", point)])
    reach = nice_ceiling(max(abs(low), abs(high), abs(point), 0.01) * 1.1)
    left, right = PAD_RIGHT + 8, WIDTH - PAD_RIGHT - 8

    def x(value: float) -> float:
        return left + (right - left) * (value + reach) / (2 * reach)

    verdict = "positive" if low > 0 else "negative" if high < 0 else "unclear"
    description = (
        f"Lift {point:+.1%}, interval from {low:+.1%} to {high:+.1%}: "
        + {
            "positive": "the variant is better.",
            "negative": "the variant is worse.",
            "unclear": "the interval includes no difference.",
        }[verdict]
    )
    parts = [
        f'<svg class="chart chart-interval {verdict}" viewBox="0 0 {WIDTH} {CI_HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
        f'<line class="grid" x1="{left}" x2="{right}" y1="40" y2="40"/>',
        f'<line class="zero" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="14" y2="66"/>',
        f'<rect class="mark" x="{x(low):.1f}" y="30" width="{max(2.0, x(high) - x(low)):.1f}" '
        f'height="20" rx="4"><title>{escape(description)}</title></rect>',
        f'<circle class="point" cx="{x(point):.1f}" cy="40" r="6"/>',
    ]
    for tick in (-reach, -reach / 2, 0.0, reach / 2, reach):
        parts.append(
            f'<text class="axis" x="{x(tick):.1f}" y="{CI_HEIGHT - 6}" text-anchor="middle">'
            f"{escape(f'{tick:+.0%}' if tick else '0')}</text>"
        )
    return _svg(parts)
