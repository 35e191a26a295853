"""`mercato reco fit --tenant` and `mercato reco evaluate --tenant` on a tenant's tracked
events and catalog, run as a user would (a separate process on the same database)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import create_tenant, signup_and_login

from .catalog_api import stock_the_catalog
from .shop import furniture, returning_shoppers
from .tracking_api import send_events


def _mercato(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mercato.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
async def tracked_shop(client) -> str:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    await send_events(client, owner.headers, tenant, returning_shoppers())
    return tenant


def test_fit_and_evaluate_read_the_tenant_from_the_database(
    tracked_shop: str, tmp_path: Path
) -> None:
    fitted = _mercato("reco", "fit", "--tenant", tracked_shop)
    assert fitted.returncode == 0, fitted.stderr
    assert "version 1" in fitted.stdout
    again = _mercato("reco", "fit", "--tenant", tracked_shop)
    assert "nothing changed since version 1" in again.stdout

    out = tmp_path / "report.json"
    evaluated = _mercato(
        "reco", "evaluate", "--tenant", tracked_shop, "--k", "3", "--out", str(out)
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert "NDCG@3" in evaluated.stdout
    report = json.loads(out.read_text())
    assert report["users"] == 30
    assert {row["method"] for row in report["scores"]} >= {"auto", "most_popular", "implicit_als"}
