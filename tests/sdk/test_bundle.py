"""The committed SDK bundle: small, served with long cache headers, and what `sdk/` builds;
the committed htmx: the npm release `sdk/` pins."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk"
BUNDLE = REPO / "src" / "mercato" / "modules" / "widgets" / "static" / "mercato.js"
HTMX = REPO / "src" / "mercato" / "web" / "static" / "vendor" / "htmx.min.js"
BUDGET_GZIPPED = 5 * 1024


def test_the_bundle_is_under_five_kilobytes_gzipped() -> None:
    size = len(gzip.compress(BUNDLE.read_bytes(), compresslevel=9))
    assert size < BUDGET_GZIPPED, f"{size} bytes gzipped"


def test_the_bundle_is_one_iife_that_only_sets_window_mercato() -> None:
    code = BUNDLE.read_text(encoding="utf-8").strip()
    assert code.startswith("(()=>{")
    assert code.endswith("})();")
    assert "window.Mercato=" in code.replace(" ", "")


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="node/npm not installed"
)


def _install_sdk_packages() -> None:
    """`npm ci` in sdk/ unless its packages are already there."""
    if (SDK / "node_modules" / ".bin" / "esbuild").exists() and (
        SDK / "node_modules" / "htmx.org"
    ).exists():
        return
    installed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=SDK, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr


@needs_node
def test_the_committed_bundle_matches_a_rebuild_from_source(tmp_path: Path) -> None:
    _install_sdk_packages()
    rebuilt = tmp_path / "mercato.js"
    build = subprocess.run(
        ["npm", "run", "build:sdk", "--", f"--outfile={rebuilt}"],
        cwd=SDK,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    assert rebuilt.read_bytes() == BUNDLE.read_bytes(), "run `npm run build` in sdk/ and commit"


@needs_node
def test_the_committed_htmx_is_the_release_sdk_pins() -> None:
    """The dashboard serves npm's htmx.min.js of the version sdk/package.json pins, unchanged."""
    _install_sdk_packages()
    pinned = json.loads((SDK / "package.json").read_text())["devDependencies"]["htmx.org"]
    release = SDK / "node_modules" / "htmx.org"
    assert json.loads((release / "package.json").read_text())["version"] == pinned
    shipped = (release / "dist" / "htmx.min.js").read_bytes()
    assert HTMX.read_bytes() == shipped, "run `npm run build` in sdk/ and commit"


async def test_the_bundle_is_served_with_long_cache_headers(client) -> None:
    response = await client.get("/sdk/v1/mercato.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=604800" in response.headers["cache-control"]
    assert response.headers["etag"]
    assert response.content == BUNDLE.read_bytes()
