"""Server-side SVG charts: scaled marks, readable descriptions, escaped labels."""

from __future__ import annotations

import re

import pytest

from mercato.web.charts import (
    HEIGHT,
    PAD_BOTTOM,
    PAD_TOP,
    bar_chart,
    format_number,
    funnel_chart,
    line_chart,
    nice_ceiling,
)


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 0), (0.7, 1), (1, 1), (3, 5), (7, 10), (18, 20), (23, 25), (420, 500), (9100, 10000)],
)
def test_nice_ceiling(value, ceiling) -> None:
    assert nice_ceiling(value) == ceiling


def test_numbers_are_compact() -> None:
    assert format_number(1234) == "1,234"
    assert format_number(25_500) == "25.5k"
    assert format_number(3_200_000, " €") == "3.2M €"
    assert format_number(0.25) == "0.25"


def test_bars_are_proportional_to_their_values() -> None:
    svg = bar_chart([("Mon", 10), ("Tue", 20), ("Wed", 5)], title="Orders")
    heights = [float(h) for h in re.findall(r'<rect class="mark"[^>]*height="([\d.]+)"', svg)]
    plot = HEIGHT - PAD_TOP - PAD_BOTTOM
    assert heights == pytest.approx([plot * 10 / 20, plot, plot * 5 / 20], abs=0.1)
    assert "<title>Tue: 20</title>" in svg
    assert 'role="img"' in svg
    assert "lowest 5 (Wed), highest 20 (Tue), total 35." in svg


def test_a_line_has_one_point_per_value_and_a_summary() -> None:
    svg = line_chart([(f"d{i}", float(i)) for i in range(30)], title="Sessions", unit=" s")
    assert svg.count("<circle") == 30
    assert len(re.findall(r"\d+\.\d,\d+\.\d", svg)) == 30
    assert "30 points from d0 to d29" in svg
    assert svg.count('text-anchor="middle"') <= 6  # x labels are thinned out


def test_a_funnel_states_each_steps_share() -> None:
    svg = funnel_chart([("Views", 1000), ("Carts", 250), ("Purchases", 50)], title="Funnel")
    assert "Carts 250 (25% of Views)" in svg
    assert "Purchases: 50, 20% of the step before" in svg
    widths = [float(w) for w in re.findall(r'<rect class="mark[^"]*"[^>]*width="([\d.]+)"', svg)]
    assert widths[0] > widths[1] > widths[2]


def test_labels_are_escaped() -> None:
    svg = bar_chart([("<script>", 1)], title='"><b>')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_no_data_is_an_empty_state_not_an_empty_chart() -> None:
    assert "no data for this period" in line_chart([], title="Revenue")
    assert "no data for this period" in funnel_chart([("Views", 0)], title="Funnel")
