"""The committed SDK bundle: small, served with long cache headers, and what `sdk/` builds."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk"
BUNDLE = REPO / "src" / "mercato" / "modules" / "widgets" / "static" / "mercato.js"
BUDGET_GZIPPED = 5 * 1024


def test_the_bundle_is_under_five_kilobytes_gzipped() -> None:
    size = len(gzip.compress(BUNDLE.read_bytes(), compresslevel=9))
    assert size < BUDGET_GZIPPED, f"{size} bytes gzipped"


def test_the_bundle_is_one_iife_that_only_sets_window_mercato() -> None:
    code = BUNDLE.read_text(encoding="utf-8").strip()
    assert code.startswith("(()=>{")
    assert code.endswith("})();")
    assert "window.Mercato=" in code.replace(" ", "")


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="node/npm not installed"
)
def test_the_committed_bundle_matches_a_rebuild_from_source(tmp_path: Path) -> None:
    if not (SDK / "node_modules" / ".bin" / "esbuild").exists():
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=SDK, capture_output=True, text=True
        )
        assert installed.returncode == 0, installed.stderr
    rebuilt = tmp_path / "mercato.js"
    build = subprocess.run(
        ["npm", "run", "build", "--", f"--outfile={rebuilt}"],
        cwd=SDK,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    assert rebuilt.read_bytes() == BUNDLE.read_bytes(), "run `npm run build` in sdk/ and commit"


async def test_the_bundle_is_served_with_long_cache_headers(client) -> None:
    response = await client.get("/sdk/v1/mercato.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=604800" in response.headers["cache-control"]
    assert response.headers["etag"]
    assert response.content == BUNDLE.read_bytes()
