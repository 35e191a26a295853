"""deploy/alerts.yml is valid and each alert fires (and stays quiet) as its unit tests in
deploy/alerts_test.yml say, checked with Prometheus's own `promtool`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def promtool() -> str:
    found = shutil.which("promtool")
    assert found, (
        "promtool is missing: install Debian's `prometheus` package "
        "(apt-get install -y prometheus); .ci/run installs it"
    )
    return found


def run(*args: str) -> None:
    done = subprocess.run(
        [promtool(), *args], cwd=DEPLOY, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_rules_are_valid() -> None:
    run("check", "rules", "alerts.yml")


def test_every_alert_passes_its_unit_tests() -> None:
    run("test", "rules", "alerts_test.yml")


def test_every_alert_has_a_firing_test_and_a_runbook_entry() -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((DEPLOY / "alerts_test.yml").read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert alerts == firing
    runbook = (DEPLOY.parent / "docs" / "observability.md").read_text()
    for alert in alerts:
        assert f"### {alert}" in runbook, f"docs/observability.md has no runbook for {alert}"
