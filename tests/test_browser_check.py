"""Without a browser, a run that needs one stops before any test with one line saying how
to get one; a run without browser tests (`make test-fast`) does not need one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chromium import MISSING

REPO = Path(__file__).resolve().parents[1]


def _without_browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` where neither PATH nor Playwright's download folder has Chromium."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    (tmp_path / "ms-playwright").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PATH": str(tmp_path / "bin"),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright"),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_check_make_test_runs_first_prints_one_line_and_fails(tmp_path: Path) -> None:
    done = _without_browser(tmp_path, "-m", "tests.chromium")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == MISSING + "\n"


@pytest.mark.slow
def test_a_run_with_browser_tests_stops_before_any_test(tmp_path: Path) -> None:
    done = _without_browser(tmp_path, "-m", "pytest", "-q", "-p", "no:randomly", "tests/web/e2e")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert MISSING in done.stdout
    assert "no tests ran" in done.stdout
    assert "passed" not in done.stdout
    assert "failed" not in done.stdout


@pytest.mark.slow
def test_a_run_without_browser_tests_needs_no_browser(tmp_path: Path) -> None:
    done = _without_browser(
        tmp_path,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-m",
        "not slow",
        "tests/test_browser_check.py",
        "tests/web/e2e",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert MISSING not in done.stdout
