"""Decompression bombs and upload quotas for GA4 export files (issue 17, finding 6).

A 64 MiB gzip upload may inflate to tens of gigabytes. The import job reads at most
`MERCATO_GA4_MAX_DECOMPRESSED_BYTES` of a file (and lines up to `_MAX_LINE_BYTES`), then
fails with a clear error and changes nothing; a tenant keeps at most
`MERCATO_IMPORT_QUOTA_BYTES` of uploads stored.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from mercato.kernel.blobs import shared_blobs
from mercato.modules.tracking.ga4_import import tenant_import_dir
from mercato.settings import get_settings
from mercato.simulation import generate_catalog, generate_locations, simulate, write_ga4_export
from tests.jobs import run_queued_jobs
from tests.modules.integrations.fakes import patched_settings
from tests.modules.tracking.helpers import Shop, new_shop

END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAY = (END - timedelta(days=1)).date()
MIB = 1 << 20


@pytest.fixture(scope="module")
def day_of_events() -> list[dict]:
    catalog = generate_catalog(products=30, seed=9, until=END)
    return list(
        simulate(
            catalog=catalog, locations=generate_locations(2), days=1, users=60, seed=9, end=END
        )
    )


async def _upload(client, shop: Shop, name: str, content: bytes):
    return await client.post(
        f"{shop.base}/ingest/import",
        params={"file_name": name},
        content=content,
        headers={**shop.owner.headers, "Content-Type": "application/octet-stream"},
    )


async def _import_day(client, shop: Shop, name: str) -> dict:
    created = await client.post(
        f"{shop.base}/ingest/jobs",
        json={"source": "ga4_file", "start": str(DAY), "end": str(DAY), "path": name},
        headers=shop.owner.headers,
    )
    assert created.status_code == 202, created.text
    await run_queued_jobs("tracking")
    done = await client.get(
        f"{shop.base}/ingest/jobs/{created.json()['id']}", headers=shop.owner.headers
    )
    return dict(done.json())


def _stored(owner_dsn: str, tenant: str) -> int:
    with psycopg.connect(owner_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM event WHERE tenant_id = %s AND source = 'ga4_file'", (tenant,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _bomb(inflated: int) -> bytes:
    """A gzip file of valid-looking JSON lines that inflates to `inflated` bytes."""
    line = json.dumps({"event_name": "scroll", "event_timestamp": "1", "padding": "x" * 900})
    count = inflated // (len(line) + 1) + 1
    return gzip.compress((line + "\n").encode() * count, compresslevel=9)


async def test_a_decompression_bomb_fails_the_job_and_loses_nothing(
    client, owner_dsn, day_of_events, tmp_path
) -> None:
    shop = await new_shop(client)
    (real,) = write_ga4_export(day_of_events, tmp_path)
    name = real.name if real.name.endswith(".gz") else real.name + ".gz"
    real_bytes = real.read_bytes()
    content = real_bytes if real.name.endswith(".gz") else gzip.compress(real_bytes)
    assert (await _upload(client, shop, name, content)).status_code == 201
    first = await _import_day(client, shop, name)
    assert first["status"] == "completed", first
    before = _stored(owner_dsn, shop.tenant_id)
    assert before > 0

    bomb = _bomb(8 * MIB)
    assert len(bomb) < MIB  # small on the wire, eight times the cap once inflated
    assert (await _upload(client, shop, name, bomb)).status_code == 201
    with patched_settings(ga4_max_decompressed_bytes=str(2 * MIB)):
        job = await _import_day(client, shop, name)

    assert job["status"] == "failed"
    assert job["error"] == (
        f"{name} is larger than {2 * MIB} bytes once decompressed, the most one export file "
        "may hold (MERCATO_GA4_MAX_DECOMPRESSED_BYTES)"
    )
    assert "padding" not in job["error"]
    assert _stored(owner_dsn, shop.tenant_id) == before  # the earlier import is intact


async def test_an_overlong_line_fails_the_job(client, owner_dsn) -> None:
    shop = await new_shop(client)
    name = f"events_{DAY:%Y%m%d}.json"
    line = json.dumps({"event_name": "page_view", "padding": "y" * (2 * MIB)})
    assert (await _upload(client, shop, name, line.encode() + b"\n")).status_code == 201
    job = await _import_day(client, shop, name)  # the default line cap is 1 MiB
    assert job["status"] == "failed"
    assert f"has a line longer than {MIB} bytes" in job["error"]
    assert _stored(owner_dsn, shop.tenant_id) == 0


async def test_uploads_stop_at_the_tenants_quota_and_deleting_frees_it(client) -> None:
    shop = await new_shop(client)
    other = await new_shop(client)
    chunk = b"{}\n" * (MIB // 3 * 2 // 3)  # about 0.67 MiB
    with patched_settings(import_quota_bytes=str(MIB)):
        first = await _upload(client, shop, "events_20260101.json", chunk)
        refused = await _upload(client, shop, "events_20260102.json", chunk)
        elsewhere = await _upload(client, other, "events_20260102.json", chunk)
        replaced = await _upload(client, shop, "events_20260101.json", chunk)
        deleted = await client.delete(
            f"{shop.base}/ingest/import/events_20260101.json", headers=shop.owner.headers
        )
        again = await _upload(client, shop, "events_20260102.json", chunk)
    assert first.status_code == 201
    assert refused.status_code == 413
    assert refused.json()["type"].endswith("/import-quota-exceeded")
    assert elsewhere.status_code == 201  # the quota is the tenant's own
    assert replaced.status_code == 201  # a file being replaced does not count twice
    assert deleted.status_code == 204
    assert again.status_code == 201
    kept = await shared_blobs().entries(uuid.UUID(shop.tenant_id), "ga4/")
    assert Counter(blob.key for blob in kept) == Counter(["ga4/events_20260102.json"])
    assert not tenant_import_dir(get_settings(), uuid.UUID(shop.tenant_id)).exists()


async def test_deleting_a_missing_file_is_404(client) -> None:
    shop = await new_shop(client)
    response = await client.delete(
        f"{shop.base}/ingest/import/events_20260101.json", headers=shop.owner.headers
    )
    assert response.status_code == 404


async def test_a_file_in_the_server_folder_is_imported_and_deleted_like_an_upload(
    client, owner_dsn, day_of_events
) -> None:
    """Where uploads went before they were shared blobs; an operator's files go there too."""
    shop = await new_shop(client)
    folder = tenant_import_dir(get_settings(), uuid.UUID(shop.tenant_id))
    (placed,) = write_ga4_export(day_of_events, folder)
    job = await _import_day(client, shop, placed.name)
    assert job["status"] == "completed", job
    assert _stored(owner_dsn, shop.tenant_id) > 0
    deleted = await client.delete(
        f"{shop.base}/ingest/import/{placed.name}", headers=shop.owner.headers
    )
    assert deleted.status_code == 204
    assert not placed.exists()


async def test_a_range_import_reads_an_upload_before_a_folder_file_of_its_name(
    client, owner_dsn, day_of_events, tmp_path
) -> None:
    shop = await new_shop(client)
    (placed,) = write_ga4_export(
        day_of_events, tenant_import_dir(get_settings(), uuid.UUID(shop.tenant_id))
    )
    (fewer,) = write_ga4_export(day_of_events[:40], tmp_path)
    assert fewer.name == placed.name
    assert (await _upload(client, shop, fewer.name, fewer.read_bytes())).status_code == 201

    async def import_range() -> int:
        created = await client.post(
            f"{shop.base}/ingest/jobs",
            json={"source": "ga4_file", "start": str(DAY), "end": str(DAY)},
            headers=shop.owner.headers,
        )
        assert created.status_code == 202, created.text
        await run_queued_jobs("tracking")
        return _stored(owner_dsn, shop.tenant_id)

    from_upload = await import_range()
    url = f"{shop.base}/ingest/import/{placed.name}"
    assert (await client.delete(url, headers=shop.owner.headers)).status_code == 204
    assert placed.exists()  # the upload went, not the folder's file
    from_folder = await import_range()
    assert 0 < from_upload < from_folder
