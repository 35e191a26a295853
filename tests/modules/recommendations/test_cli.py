from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mercato.cli import app

from .shop import furniture, returning_shoppers

runner = CliRunner()


def _lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n", encoding="utf-8")
    return path


def test_an_unknown_tenant_is_reported() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mercato.cli", "reco", "evaluate", "--tenant", "no-such-shop"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "no tenant with id or slug 'no-such-shop'" in result.stderr


def test_a_missing_yoochoose_folder_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reco", "evaluate", "--dataset", "yoochoose", str(tmp_path)])
    assert result.exit_code == 2
    assert "YooChoose sample not found" in result.output


def test_an_event_file_is_evaluated_and_the_report_saved(tmp_path: Path) -> None:
    events = _lines(tmp_path / "events.jsonl", returning_shoppers())
    catalog = _lines(tmp_path / "catalog.jsonl", furniture())
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "reco",
            "evaluate",
            "--dataset",
            "events",
            str(events),
            "--catalog",
            str(catalog),
            "--k",
            "3",
            "--holdout-days",
            "7",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "NDCG@3" in result.output
    report = json.loads(out.read_text())
    assert report["k"] == 3
    assert report["users"] == 30
    assert {row["method"] for row in report["scores"]} >= {"auto", "most_popular", "implicit_als"}


def test_a_generated_shop_is_evaluated_with_intervals_and_verdicts(tmp_path: Path) -> None:
    events = tmp_path / "repeats.jsonl"
    made = runner.invoke(
        app, ["reco", "generate", "--shape", "repeats", "--seed", "5", "--size", "0.1", str(events)]
    )
    assert made.exit_code == 0, made.output
    lines = events.read_text().splitlines()
    assert f"{len(lines):,} events" in made.output
    assert json.loads(lines[0])["type"] == "view_item"
    again = tmp_path / "again.jsonl"
    runner.invoke(
        app, ["reco", "generate", "--shape", "repeats", "--seed", "5", "--size", "0.1", str(again)]
    )
    assert again.read_bytes() == events.read_bytes()
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["reco", "evaluate", "--dataset", "sessions", str(events), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "auto: at or above both baselines" in result.output
    assert "auto's weights" in result.output
    report = json.loads(out.read_text())
    assert report["k"] == 20
    assert {row["against"] for row in report["all_clicks_differences"]} >= {
        "most_popular",
        "implicit_als",
    }
    assert {row["verdict"] for row in report["product_page_differences"]} <= {
        "better",
        "worse",
        "within noise",
    }
    low, high = report["all_clicks"][0]["hit_rate_interval"]
    assert low <= report["all_clicks"][0]["hit_rate"] <= high
