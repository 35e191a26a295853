"""The benchmark report: JSON documents in, docs/benchmarks.md and the SVG chart out."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from results import (
    BenchResult,
    Figure,
    Series,
    document,
    figure,
    format_ratio,
    format_value,
    parse_document,
    parse_series,
    render_markdown,
    render_series_svg,
    render_svg,
    summary,
    write_json,
)

MACHINE = {"CPU": "Test CPU | 2 GHz", "cores": "2", "git commit": "abc1234"}


def _ingest() -> BenchResult:
    return BenchResult(
        name="ingest_batch",
        status="ok",
        seconds=61.4,
        args=["--events", "200000"],
        figures=[
            figure(
                "POST /events/batch",
                12_500,
                "events/s",
                baseline=("raw COPY", 50_000),
                target="≥ 50,000 events/s",
                met=False,
            ),
            figure(
                "single event p95",
                8.0,
                "ms",
                baseline=("GET /health p95", 2.0),
                target="p95 < 10 ms",
                met=True,
                percentiles=(3.0, 8.0, 12.5),
            ),
        ],
    )


class TestFigure:
    def test_ratio_is_value_over_baseline(self) -> None:
        item = figure("x", 30, "ms", baseline=("b", 120))
        assert item.ratio == pytest.approx(0.25)
        assert item.baseline_value == 120.0

    def test_no_baseline_or_zero_baseline_has_no_ratio(self) -> None:
        assert figure("x", 3, "s").ratio is None
        assert figure("x", 3, "s", baseline=("b", 0)).ratio is None

    def test_json_document_round_trips(self, tmp_path: Path) -> None:
        path = tmp_path / "out.json"
        write_json(path, _ingest().figures, name="ingest_batch")
        name, figures = parse_document(path.read_text())
        assert name == "ingest_batch"
        assert figures == _ingest().figures
        raw = json.loads(path.read_text())
        assert set(raw["figures"][0]) == {
            "name",
            "value",
            "unit",
            "baseline_name",
            "baseline_value",
            "ratio",
            "target",
            "met",
            "p50",
            "p95",
            "p99",
        }

    def test_fields_beyond_the_convention_are_left_out(self) -> None:
        raw = '{"name": "x", "figures": [{"name": "a", "value": 1, "unit": "s", "extra": 1}]}'
        assert parse_document(raw)[1] == [Figure(name="a", value=1, unit="s")]

    def test_write_json_without_a_path_writes_nothing(self, tmp_path: Path) -> None:
        write_json(None, _ingest().figures)
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ("not json", "not JSON"),
            ("[]", "no name"),
            ('{"name": "x"}', "no figures"),
            ('{"name": "x", "figures": [{"name": "a", "unit": "s"}]}', "lacks value"),
            ('{"name": "x", "figures": [{"name": "a", "value": "1", "unit": "s"}]}', "number"),
        ],
    )
    def test_malformed_documents_are_rejected(self, raw: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            parse_document(raw)


class TestFormatting:
    @pytest.mark.parametrize(
        ("value", "unit", "text"),
        [
            (12_500.4, "events/s", "12,500 events/s"),
            (44.04, "ms", "44.0 ms"),
            (2.345, "ms", "2.35 ms"),
            (0.000333, "ms", "0.000333 ms"),
            (0, "", "0"),
            (None, "ms", "-"),
        ],
    )
    def test_values(self, value: float | None, unit: str, text: str) -> None:
        assert format_value(value, unit) == text

    def test_ratios(self) -> None:
        assert format_ratio(0.25) == "0.25x"
        assert format_ratio(1556.2) == "1,556x"
        assert format_ratio(None) == "-"


class TestMarkdown:
    def test_machine_summary_and_one_table_per_benchmark(self) -> None:
        failed = BenchResult(
            name="catalog_search", status="failed", seconds=3, reason="exit code 1\nTraceback"
        )
        skipped = BenchResult(name="dashboard_pages", status="skipped", reason="no demo")
        text = render_markdown([_ingest(), failed, skipped], MACHINE, mode="quick")
        assert "`BENCH_MODE=quick`" in text
        assert "| CPU | Test CPU \\| 2 GHz |" in text
        assert "3 benchmarks: 1 ran, 1 failed, 1 skipped; 1 targets met, 1 missed." in text
        assert "| [catalog_search](#catalog_search) | **failed** | 3 | - |" in text
        assert "## ingest_batch" in text
        assert "## catalog_search" in text
        assert "exit code 1\nTraceback" in text
        assert "![figures against their in-run baselines](benchmarks.svg)" in text

    def test_each_figure_stands_next_to_its_baseline_with_ratio_and_verdict(self) -> None:
        text = render_markdown([_ingest()], MACHINE, mode="full", chart=None)
        assert (
            "| POST /events/batch | **12,500 events/s** | raw COPY: 50,000 events/s | 0.25x "
            "| - | - | - | ≥ 50,000 events/s | **missed** |"
        ) in text
        assert (
            "| single event p95 | **8.00 ms** | GET /health p95: 2.00 ms | 4x | 3.00 | 8.00 "
            "| 12.5 | p95 < 10 ms | met |"
        ) in text
        assert "benchmarks.svg" not in text

    def test_summary_counts(self) -> None:
        counts = summary([_ingest(), BenchResult(name="x", status="failed")])
        assert counts == {"ok": 1, "failed": 1, "skipped": 0, "met": 1, "missed": 1}


class TestSvg:
    def test_one_bar_per_figure_with_a_ratio_coloured_by_verdict(self) -> None:
        results = [
            _ingest(),
            BenchResult(
                name="feed",
                status="ok",
                figures=[figure("no baseline", 1.0, "s"), figure("x", 2, "s", baseline=("b", 1))],
            ),
        ]
        svg = render_svg(results, title="T & U")
        root = ET.fromstring(svg)
        bars = root.findall("{http://www.w3.org/2000/svg}rect")[1:]
        assert [bar.get("fill") for bar in bars] == ["#c62828", "#2e7d32", "#546e7a"]
        titles = [bar.find("{http://www.w3.org/2000/svg}title").text for bar in bars]
        assert titles[0] == "ingest_batch: POST /events/batch: 12,500 events/s, 0.25x of raw COPY"
        assert "T &amp; U" in svg

    def test_bars_grow_left_of_the_baseline_when_below_it(self) -> None:
        slower = BenchResult(
            name="a", status="ok", figures=[figure("x", 1, "s", baseline=("b", 10))]
        )
        faster = BenchResult(
            name="a", status="ok", figures=[figure("x", 10, "s", baseline=("b", 1))]
        )
        ns = "{http://www.w3.org/2000/svg}"
        low = ET.fromstring(render_svg([slower])).findall(f"{ns}rect")[1]
        high = ET.fromstring(render_svg([faster])).findall(f"{ns}rect")[1]
        assert float(low.get("x")) < float(high.get("x"))
        assert float(low.get("width")) == pytest.approx(float(high.get("width")))

    def test_an_empty_run_still_renders_a_valid_chart(self) -> None:
        root = ET.fromstring(render_svg([BenchResult(name="x", status="failed")]))
        assert root.tag.endswith("svg")


def _curves() -> list[Series]:
    return [
        Series("reco hit (p95 < 10 ms)", "1 process", [(100, 3.0), (200, 40.0)], 10.0),
        Series(
            "reco hit (p95 < 10 ms)", "2 processes", [(100, 2.0), (200, 4.0), (400, 90.0)], 10.0
        ),
        Series("batch (p95 < 20 ms)", "1 process", [(5, 12.0)], 20.0, x_unit="batches/s"),
    ]


class TestSeries:
    def test_series_round_trip_and_are_optional(self, tmp_path: Path) -> None:
        path = tmp_path / "out.json"
        write_json(path, _ingest().figures, name="capacity", series=_curves())
        assert parse_series(path.read_text()) == _curves()
        assert parse_document(path.read_text())[1] == _ingest().figures
        write_json(path, _ingest().figures, name="ingest_batch")
        assert "series" not in json.loads(path.read_text())
        assert parse_series(path.read_text()) == []

    @pytest.mark.parametrize(
        "series",
        ['"x"', '[{"name": "a"}]', '[{"points": [[1]]}]', '[{"points": [["1", 2]]}]'],
    )
    def test_malformed_series_are_rejected(self, series: str) -> None:
        with pytest.raises(ValueError, match="series"):
            parse_series(f'{{"name": "x", "figures": [], "series": {series}}}')

    def test_one_panel_per_group_one_line_per_series_and_the_budget_dashed(self) -> None:
        root = ET.fromstring(render_series_svg(_curves(), title="capacity"))
        ns = "{http://www.w3.org/2000/svg}"
        lines = root.findall(f"{ns}polyline")
        assert len(lines) == 3
        assert len(lines[1].get("points").split()) == 3
        assert lines[0].get("stroke") != lines[1].get("stroke")  # 1 vs 2 processes
        assert lines[0].get("stroke") == lines[2].get("stroke")  # same name, same colour
        panels = [t.text for t in root.findall(f"{ns}text") if t.text and "(p95 <" in t.text]
        assert panels == ["reco hit (p95 < 10 ms)", "batch (p95 < 20 ms)"]
        dashed = [e for e in root.iter(f"{ns}line") if e.get("stroke-dasharray")]
        assert len(dashed) == 3  # the legend's and one per panel
        # A point above the budget is drawn above the budget line (smaller y).
        budget_y = float(dashed[1].get("y1"))
        points = [tuple(map(float, p.split(","))) for p in lines[0].get("points").split()]
        assert points[0][1] > budget_y > points[1][1]

    def test_the_report_shows_the_note_and_the_curves(self) -> None:
        result = BenchResult(
            name="capacity", status="ok", figures=_ingest().figures, note="How to run: x."
        )
        text = render_markdown(
            [result], MACHINE, mode="quick", series_charts={"capacity": "b-capacity.svg"}
        )
        section = text.split("## capacity")[1]
        assert section.index("How to run: x.") < section.index("| figure |")
        assert section.rstrip().endswith("![capacity: curves](b-capacity.svg)")


def test_document_shape_matches_the_convention() -> None:
    doc = document("ingest_batch", [Figure(name="a", value=1.0, unit="s")])
    assert doc == {
        "name": "ingest_batch",
        "figures": [
            {
                "name": "a",
                "value": 1.0,
                "unit": "s",
                "baseline_name": None,
                "baseline_value": None,
                "ratio": None,
                "target": None,
                "met": None,
                "p50": None,
                "p95": None,
                "p99": None,
            }
        ],
    }
