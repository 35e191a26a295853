"""Master data by SFTP: a real asyncssh server, good rows applied, bad rows reported."""

from __future__ import annotations

from typing import Any

import asyncssh
import pytest

from tests.factories import add_member
from tests.jobs import run_queued_jobs
from tests.modules.integrations.fakes import patched_settings
from tests.modules.masterdata.sftp_server import sftp_server
from tests.modules.tracking.helpers import new_shop

LOCATIONS = """code,name,address,timezone,kind
STO-1,Stockholm City,Drottninggatan 1,Europe/Stockholm,store
GBG-1,Göteborg Branch,Avenyn 5,Europe/Stockholm,
bad code!,Broken,,,
OSL-1,,Karl Johans gate 1,Europe/Oslo,
HEL-1,Helsinki,,Mars/Olympus,
"""
USERS = """id,name,email,location_codes
r1,Anna Berg,anna@shop.example,STO-1;GBG-1
r2,Bo Ek,bo@shop.example,GBG-1
r3,Cecilia,not-an-email,STO-1
r4,Dan,dan@shop.example,NOPE-9
r1,Anna Again,anna2@shop.example,STO-1
,Nameless,x@shop.example,
"""


async def _run_masterdata_jobs() -> None:
    await run_queued_jobs("masterdata")


async def _configure(client, shop, server, **overrides) -> None:
    response = await client.put(
        f"{shop.base}/integrations/sftp",
        json=server.config(**overrides),
        headers=shop.owner.headers,
    )
    assert response.status_code in (200, 201), response.text


@pytest.fixture
async def server(tmp_path):
    (tmp_path / "users.csv").write_text(USERS)
    (tmp_path / "locations.csv").write_text(LOCATIONS)
    async with sftp_server(tmp_path) as running:
        yield running


async def test_sync_applies_good_rows_and_reports_each_bad_one(client, server) -> None:
    shop = await new_shop(client)
    await _configure(client, shop, server)
    queued = await client.post(f"{shop.base}/masterdata/sync", headers=shop.owner.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    await _run_masterdata_jobs()
    run = (
        await client.get(
            f"{shop.base}/masterdata/syncs/{queued.json()['id']}", headers=shop.owner.headers
        )
    ).json()
    assert run["status"] == "completed", run
    problems = {(p["file"], p["row"], p["column"]) for p in run["problems"]}
    assert problems == {
        ("locations.csv", 4, "code"),
        ("locations.csv", 5, "name"),
        ("locations.csv", 6, "timezone"),
        ("users.csv", 4, "email"),
        ("users.csv", 5, "location_codes"),
        ("users.csv", 6, "id"),
        ("users.csv", 7, "id"),
    }
    assert run["counts"] == {
        "rows": 11,
        "stored": 4,
        "locations": 2,
        "sales_reps": 2,
        "deactivated": 0,
        "problems": 7,
    }
    reps = (await client.get(f"{shop.base}/sales-reps", headers=shop.owner.headers)).json()["data"]
    assert [(r["id"], r["name"], r["location_codes"]) for r in reps] == [
        ("r1", "Anna Berg", ["GBG-1", "STO-1"]),
        ("r2", "Bo Ek", ["GBG-1"]),
    ]
    locations = (await client.get(f"{shop.base}/locations", headers=shop.owner.headers)).json()[
        "data"
    ]
    assert {(loc["code"], loc["kind"]) for loc in locations} == {
        ("STO-1", "store"),
        ("GBG-1", "branch"),
    }


async def test_a_rep_missing_from_the_next_file_becomes_inactive(client, server) -> None:
    shop = await new_shop(client)
    await _configure(client, shop, server)
    await client.post(f"{shop.base}/masterdata/sync", headers=shop.owner.headers)
    await _run_masterdata_jobs()
    (server.root / "users.csv").write_text(
        "id,name,email,location_codes\nr2,Bo Ek,bo@shop.example,GBG-1\n"
    )
    await client.post(f"{shop.base}/masterdata/sync", headers=shop.owner.headers)
    await _run_masterdata_jobs()
    runs = (await client.get(f"{shop.base}/masterdata/syncs", headers=shop.owner.headers)).json()[
        "data"
    ]
    assert runs[0]["counts"]["deactivated"] == 1
    active = (await client.get(f"{shop.base}/sales-reps", headers=shop.owner.headers)).json()[
        "data"
    ]
    assert [r["id"] for r in active] == ["r2"]
    everyone = await client.get(
        f"{shop.base}/sales-reps", params={"include_inactive": "true"}, headers=shop.owner.headers
    )
    assert [(r["id"], r["active"]) for r in everyone.json()["data"]] == [
        ("r1", False),
        ("r2", True),
    ]


async def test_a_wrong_password_fails_the_sync_with_the_reason(client, server) -> None:
    shop = await new_shop(client)
    await _configure(client, shop, server, password="wrong-password")
    queued = await client.post(f"{shop.base}/masterdata/sync", headers=shop.owner.headers)
    await _run_masterdata_jobs()
    run = (
        await client.get(
            f"{shop.base}/masterdata/syncs/{queued.json()['id']}", headers=shop.owner.headers
        )
    ).json()
    assert run["status"] == "failed"
    assert run["error"] == (
        "SftpFailed: SFTP login refused: check the username and the password or key"
    )


async def test_a_file_without_the_required_columns_fails_the_whole_sync(client, server) -> None:
    shop = await new_shop(client)
    (server.root / "users.csv").write_text("identifier,full_name\nr1,Anna\n")
    await _configure(client, shop, server)
    queued = await client.post(f"{shop.base}/masterdata/sync", headers=shop.owner.headers)
    await _run_masterdata_jobs()
    run = (
        await client.get(
            f"{shop.base}/masterdata/syncs/{queued.json()['id']}", headers=shop.owner.headers
        )
    ).json()
    assert run["status"] == "failed"
    assert "lacks the column(s) id, name, email, location_codes" in run["error"]


async def test_an_sftp_ingest_job_runs_the_same_sync(client, server) -> None:
    shop = await new_shop(client)
    await _configure(client, shop, server)
    created = await client.post(
        f"{shop.base}/ingest/jobs", json={"source": "sftp"}, headers=shop.owner.headers
    )
    assert created.status_code == 202
    await run_queued_jobs("tracking")
    job = (
        await client.get(
            f"{shop.base}/ingest/jobs/{created.json()['id']}", headers=shop.owner.headers
        )
    ).json()
    assert job["status"] == "completed", job
    assert (job["counts"]["accepted"], job["counts"]["rejected"]) == (4, 7)


async def test_sync_needs_masterdata_write(client, server) -> None:
    shop = await new_shop(client)
    manager = await add_member(client, shop.owner, shop.tenant_id, "manager")
    assert (
        await client.post(f"{shop.base}/masterdata/sync", headers=manager.headers)
    ).status_code == 403
    assert (
        await client.post(f"{shop.base}/masterdata/sync", headers=shop.owner.headers)
    ).status_code == 409


async def _sync_run(client, shop) -> dict[str, Any]:
    queued = await client.post(f"{shop.base}/masterdata/sync", headers=shop.owner.headers)
    await _run_masterdata_jobs()
    run = await client.get(
        f"{shop.base}/masterdata/syncs/{queued.json()['id']}", headers=shop.owner.headers
    )
    return dict(run.json())


async def test_a_file_over_the_size_limit_fails_the_sync_and_changes_nothing(
    client, tmp_path
) -> None:
    (tmp_path / "users.csv").write_text(USERS + "r9,Padding,pad@shop.example,STO-1\n" * 200)
    (tmp_path / "locations.csv").write_text(LOCATIONS)
    shop = await new_shop(client)
    with patched_settings(masterdata_max_file_bytes="4096"):
        async with sftp_server(tmp_path) as server:
            await _configure(client, shop, server)
            run = await _sync_run(client, shop)
    assert run["status"] == "failed"
    assert run["error"] == "FileTooLarge: users.csv is larger than the limit of 4,096 bytes"
    reps = await client.get(f"{shop.base}/sales-reps", headers=shop.owner.headers)
    assert reps.json()["data"] == []


class _UnderReportingServer(asyncssh.SFTPServer):
    """Says every file is 10 bytes long when asked by name, and counts what it serves.

    The handle of an open file tells the truth, which is what a read "to the end" uses.
    """

    served: list[int] = []

    def stat(self, path: bytes) -> asyncssh.SFTPAttrs:
        attrs = asyncssh.SFTPAttrs.from_local(super().stat(path))
        attrs.size = 10
        return attrs

    def lstat(self, path: bytes) -> asyncssh.SFTPAttrs:
        attrs = asyncssh.SFTPAttrs.from_local(super().lstat(path))
        attrs.size = 10
        return attrs

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        data = super().read(file_obj, offset, size)
        self.served.append(len(data))
        return data


async def test_a_server_that_under_reports_sizes_cannot_make_the_sync_read_more(
    client, tmp_path
) -> None:
    (tmp_path / "users.csv").write_bytes(b"id,name,email,location_codes\n" + b"x" * 512_000)
    (tmp_path / "locations.csv").write_text(LOCATIONS)
    _UnderReportingServer.served = []
    shop = await new_shop(client)
    with patched_settings(masterdata_max_file_bytes="4096"):
        async with sftp_server(tmp_path, _UnderReportingServer) as server:
            await _configure(client, shop, server)
            run = await _sync_run(client, shop)
    assert run["status"] == "failed"
    assert "users.csv is larger than the limit of 4,096 bytes" in run["error"]
    assert 0 < sum(_UnderReportingServer.served) <= 4097
