"""The browser of the end-to-end tests: Debian's Chromium, else Playwright's own download.

`make test` runs `python -m tests.chromium` first and the suite's conftest checks again
after collection, so a run that needs a browser and has none stops before any test with
`MISSING`, instead of failing test after test with a launch error. Debian's package is
looked up as `chromium` on PATH (it installs `/usr/bin/chromium`); a candidate counts
only when it answers `--version`, so a shim that cannot start a browser (Ubuntu's snap
wrapper in a container) is not taken for one.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Chromium flags for a container without a display or a user namespace."""

MISSING = (
    "No browser for the dashboard tests: install Debian's chromium (apt-get install chromium)"
    " or run `.venv/bin/playwright install chromium`, or run `make test-fast` without them."
)


def _answers(executable: Path) -> bool:
    try:
        done = subprocess.run(
            [str(executable), "--version"], capture_output=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _playwright_download() -> Path | None:
    """Where `playwright install chromium` puts Chromium (PLAYWRIGHT_BROWSERS_PATH honoured)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        return Path(playwright.chromium.executable_path)


def _candidates() -> Iterator[Path]:
    """Debian's first; Playwright's driver is only started when Debian's is not there."""
    debian = shutil.which("chromium")
    if debian:
        yield Path(debian)
    download = _playwright_download()
    if download is not None:
        yield download


@functools.cache
def find() -> Path | None:
    """The Chromium executable the browser tests launch, or None when there is none."""
    return next((path for path in _candidates() if path.is_file() and _answers(path)), None)


def main() -> int:
    """Exit 0 when a browser is there; otherwise print the one line saying how to get one."""
    if find() is None:
        print(MISSING, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
