"""The runner: finding benchmark scripts, running them, a failure not stopping the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import run_all
from run_all import Script, discover, read_bench, read_report, run_script

SCRIPT = '''
"""A tiny benchmark for the runner's tests."""
import argparse, sys
sys.path.insert(0, {bench!r})
from results import add_json_option, figure, write_json

BENCH = {{"order": {order}, "quick": ["--value", "2"], "full": ["--value", "5"]}}

parser = argparse.ArgumentParser()
parser.add_argument("--value", type=float)
parser.add_argument("--exit", type=int, default=0)
add_json_option(parser)
args = parser.parse_args()
print("measuring", args.value)
if {behaviour!r} == "fail":
    print("boom: the database went away")
    sys.exit(3)
if {behaviour!r} == "skip":
    print("skipped: no demo here")
    sys.exit(77)
if {behaviour!r} == "garbage":
    args.json.write_text("{{not json")
    sys.exit(0)
write_json(args.json, [figure("v", args.value, "s", baseline=("one", 1.0))])
'''


def _write(folder: Path, name: str, order: int, behaviour: str = "ok") -> None:
    text = SCRIPT.format(bench=str(run_all.BENCH_DIR), order=order, behaviour=behaviour)
    (folder / f"{name}.py").write_text(text)


def _script(folder: Path, name: str) -> Script:
    return next(s for s in discover(folder) if s.name == name)


class TestDiscovery:
    def test_only_scripts_with_a_bench_dict_in_order(self, tmp_path: Path) -> None:
        _write(tmp_path, "zeta", 1)
        _write(tmp_path, "alpha", 20)
        (tmp_path / "library.py").write_text("def helper():\n    return 1\n")
        found = discover(tmp_path)
        assert [s.name for s in found] == ["zeta", "alpha"]
        assert found[0].quick == ["--value", "2"]
        assert found[0].args("full") == ["--value", "5"]

    def test_reads_bench_without_importing(self) -> None:
        source = (
            'import nothing_here\nBENCH: dict = {"order": 3, "quick": [], "full": ["--n", 1]}\n'
        )
        assert read_bench(source) == {"order": 3, "quick": [], "full": ["--n", 1]}
        assert read_bench("X = 1\n") is None

    def test_reads_the_optional_report_note(self, tmp_path: Path) -> None:
        assert read_report('BENCH = {}\nREPORT = """How to run."""\n') == "How to run."
        assert read_report("BENCH = {}\n") is None
        with pytest.raises(ValueError, match="REPORT"):
            read_report("REPORT = 3\n")
        _write(tmp_path, "noted", 1)
        source = (tmp_path / "noted.py").read_text()
        (tmp_path / "noted.py").write_text(source + '\nREPORT = "Read me."\n')
        assert discover(tmp_path)[0].report == "Read me."

    def test_an_unusable_bench_dict_is_reported_failed_not_fatal(self, tmp_path: Path) -> None:
        (tmp_path / "bad.py").write_text('BENCH = {"order": 1, "quick": []}\n')
        (tmp_path / "worse.py").write_text("BENCH = {'order': make_order()}\n")
        _write(tmp_path, "good", 5)
        found = discover(tmp_path)
        assert [s.name for s in found] == ["good", "bad", "worse"]
        result = run_script(found[1], "quick", log_dir=tmp_path, timeout=5, env={})
        assert result.status == "failed"
        assert result.reason == "bad.py: BENCH lacks 'full'"
        assert found[2].problem is not None

    def test_every_benchmark_in_the_repository_follows_the_convention(self) -> None:
        names = {s.name for s in discover()}
        expected = {
            "ingest_batch",
            "ingest_single",
            "catalog_import",
            "catalog_search",
            "reco_fit",
            "reco_serving",
            "reco_simulated_shop",
            "channels_feed",
            "dashboard_pages",
            "capacity",
        }
        assert expected <= names
        libraries = {
            "ingest_server",
            "catalog_setup",
            "simulate",
            "synthetic_shop",
            "results",
            "minimal_app",
        }
        assert not names & libraries
        for script in discover():
            assert "--json" not in script.quick + script.full
            source = script.path.read_text()
            assert source.lstrip().startswith('"""'), f"{script.name} has no docstring"
            assert "add_json_option(parser)" in source, f"{script.name} has no --json"


class TestRunning:
    def _run(self, folder: Path, name: str, behaviour: str, mode: str = "quick", **kw: float):
        _write(folder, name, 1, behaviour)
        return run_script(
            _script(folder, name),
            mode,
            log_dir=folder,
            timeout=kw.get("timeout", 60),
            env=dict(os.environ),
        )

    def test_a_good_script_gives_its_figures_with_the_mode_arguments(self, tmp_path: Path) -> None:
        result = self._run(tmp_path, "good", "ok", mode="full")
        assert result.status == "ok"
        assert result.args == ["--value", "5"]
        assert [(f.name, f.value, f.ratio) for f in result.figures] == [("v", 5.0, 5.0)]
        assert "measuring 5.0" in (tmp_path / "good.log").read_text()

    def test_a_failing_script_is_failed_with_its_output(self, tmp_path: Path) -> None:
        result = self._run(tmp_path, "bad", "fail")
        assert result.status == "failed"
        assert result.reason is not None
        assert "exit code 3" in result.reason
        assert "the database went away" in result.reason

    def test_exit_77_is_skipped_with_the_reason(self, tmp_path: Path) -> None:
        result = self._run(tmp_path, "skip", "skip")
        assert result.status == "skipped"
        assert result.reason == "skipped: no demo here"

    def test_invalid_json_is_failed(self, tmp_path: Path) -> None:
        result = self._run(tmp_path, "garbage", "garbage")
        assert result.status == "failed"
        assert result.reason is not None
        assert "no valid JSON" in result.reason

    def test_a_script_past_its_timeout_is_stopped_and_failed(self, tmp_path: Path) -> None:
        (tmp_path / "slow.py").write_text(
            'BENCH = {"order": 1, "quick": [], "full": []}\nimport time\ntime.sleep(60)\n'
        )
        result = run_script(
            _script(tmp_path, "slow"), "quick", log_dir=tmp_path, timeout=1, env=dict(os.environ)
        )
        assert result.status == "failed"
        assert result.reason == "timed out after 1 s"
        assert result.seconds < 30


def test_main_writes_the_report_and_fails_when_a_benchmark_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    _write(bench, "first", 1)
    _write(bench, "second", 2, "fail")
    monkeypatch.setattr(run_all, "BENCH_DIR", bench)
    monkeypatch.setattr(run_all, "discover", lambda: discover(bench))
    monkeypatch.setattr(run_all, "machine_info", lambda env: {"CPU": "test"})
    out, svg = tmp_path / "docs" / "benchmarks.md", tmp_path / "docs" / "benchmarks.svg"
    code = run_all.main(["--mode", "quick", "--out", str(out), "--svg", str(svg)])
    assert code == 1
    text = out.read_text()
    assert "2 benchmarks: 1 ran, 1 failed, 0 skipped" in text
    assert "![figures against their in-run baselines](benchmarks.svg)" in text
    assert svg.read_text().startswith("<svg")
