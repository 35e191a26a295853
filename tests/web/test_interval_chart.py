"""The confidence-interval bar of experiment results: drawn around zero, coloured by verdict."""

from __future__ import annotations

import re

from mercato.web.charts import interval_chart


def _x(svg: str, css_class: str, attribute: str) -> float:
    match = re.search(rf'class="{css_class}"[^>]*?{attribute}="([-\d.]+)"', svg)
    assert match, f"no {css_class} {attribute} in {svg}"
    return float(match.group(1))


def test_an_interval_above_zero_is_positive_and_to_the_right_of_zero() -> None:
    svg = str(interval_chart(0.05, 0.25, 0.15, title="Lift"))
    assert 'class="chart chart-interval positive"' in svg
    zero = _x(svg, "zero", "x1")
    assert _x(svg, "mark", "x") > zero
    assert _x(svg, "point", "cx") > zero
    assert "Lift +15.0%, interval from +5.0% to +25.0%: the variant is better." in svg


def test_an_interval_across_zero_is_unclear_and_one_below_is_negative() -> None:
    unclear = str(interval_chart(-0.1, 0.2, 0.05, title="Lift"))
    assert "chart-interval unclear" in unclear
    assert "includes no difference" in unclear
    negative = str(interval_chart(-0.3, -0.1, -0.2, title="Lift"))
    assert "chart-interval negative" in negative
    assert _x(negative, "point", "cx") < _x(negative, "zero", "x1")


def test_text_is_escaped() -> None:
    svg = str(interval_chart(0.0, 0.1, 0.05, title="<b>Lift</b>"))
    assert "<b>" not in svg
    assert "&lt;b&gt;Lift&lt;/b&gt;" in svg
