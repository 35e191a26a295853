"""The lock files pin, with hashes, every dependency pyproject.toml declares, in range.

`make lock` regenerates them; this fails when a dependency was added or re-ranged in
pyproject.toml without re-locking, so the production install path (`pip install
--require-hashes -r requirements.lock`) never silently lacks a package.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+) \\$")


def _pins(lock: Path) -> dict[str, tuple[Version, int]]:
    """name → (pinned version, number of hashes)."""
    pins: dict[str, tuple[Version, int]] = {}
    current = None
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            pins[current] = (Version(match["version"]), 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


PRODUCTION_EXTRAS = ("s3", "bigquery", "sftp")
EVERY_EXTRA = (*PRODUCTION_EXTRAS, "local", "dev")


def _declared(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return [Requirement(r) for r in requirements]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", PRODUCTION_EXTRAS), ("requirements-dev.lock", EVERY_EXTRA)],
)
def test_every_declared_dependency_is_locked_in_range_with_hashes(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = _pins(REPO / lock)
    assert len(pins) > 20
    unhashed = [name for name, (_, hashes) in pins.items() if hashes == 0]
    assert unhashed == []
    problems = []
    for requirement in _declared(extras):
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{name} is not locked (run `make lock`)")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{name}=={pins[name][0]} is outside {requirement.specifier}")
    assert problems == []


def test_production_installs_the_versions_ci_tested() -> None:
    """`make lock` resolves the runtime lock within the development one: what CI installs
    (requirements-dev.lock) is what `pip install -r requirements.lock` gives production."""
    runtime, development = _pins(REPO / "requirements.lock"), _pins(REPO / "requirements-dev.lock")
    differing = [
        f"{name}: {version} vs {development.get(name, ('missing',))[0]}"
        for name, (version, _) in runtime.items()
        if name not in development or development[name][0] != version
    ]
    assert differing == []


def test_the_runtime_pulls_neither_pandas_nor_the_test_oracles() -> None:
    runtime = _pins(REPO / "requirements.lock")
    for dev_only in ("pandas", "gbstats", "stripe", "django-js-lib-htmx", "moto"):
        assert dev_only not in runtime, f"{dev_only} reached the runtime lock"
    declared = {canonicalize_name(r.name) for r in _declared(())}
    assert declared.isdisjoint({"pandas", "gbstats", "stripe", "boto3", "asyncssh"})
    numpy = next(r for r in _declared(()) if canonicalize_name(r.name) == "numpy")
    assert numpy.specifier.contains("2.3.0"), "the runtime must allow numpy 2"
