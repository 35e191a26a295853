"""Ingestion jobs: GA4 export files round-trip into events; re-imports replace their range."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from mercato.kernel.db import get_database
from mercato.modules.tracking import imports
from mercato.modules.tracking.ga4_import import tenant_import_dir
from mercato.modules.tracking.models import IngestJob
from mercato.settings import get_settings
from mercato.simulation import generate_catalog, generate_locations, simulate, write_ga4_export
from tests.jobs import run_queued_jobs
from tests.modules.tracking.helpers import new_shop, view

END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAY = (END - timedelta(days=1)).date()


@pytest.fixture(scope="module")
def simulated_day() -> list[dict]:
    catalog = generate_catalog(products=120, seed=5, until=END)
    return list(
        simulate(
            catalog=catalog, locations=generate_locations(5), days=1, users=400, seed=5, end=END
        )
    )


async def _run_tracking_jobs() -> None:
    await run_queued_jobs("tracking")


def _stored_types(owner_dsn: str, tenant_id: str, source: str) -> Counter[str]:
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(
            "SELECT type, count(*) FROM event WHERE tenant_id = %s AND source = %s GROUP BY type",
            (tenant_id, source),
        ).fetchall()
    return Counter(dict(rows))


async def _import(client, shop, **body) -> dict:
    created = await client.post(f"{shop.base}/ingest/jobs", json=body, headers=shop.owner.headers)
    assert created.status_code == 202, created.text
    assert created.json()["status"] == "queued"
    await _run_tracking_jobs()
    done = await client.get(
        f"{shop.base}/ingest/jobs/{created.json()['id']}", headers=shop.owner.headers
    )
    return done.json()


async def test_a_simulated_day_round_trips_through_a_ga4_export(
    client, owner_dsn, simulated_day
) -> None:
    shop = await new_shop(client)
    folder = tenant_import_dir(get_settings(), uuid.UUID(shop.tenant_id))
    write_ga4_export(simulated_day, folder)
    job = await _import(client, shop, source="ga4_file", start=DAY.isoformat(), end=DAY.isoformat())
    assert job["status"] == "completed", job
    expected = Counter(e["type"] for e in simulated_day)
    assert _stored_types(owner_dsn, shop.tenant_id, "ga4_file") == expected
    assert job["counts"]["accepted"] == sum(expected.values())
    assert job["counts"]["rejected"] == 0
    assert job["counts"]["row_errors"] == 0

    # Importing the same range again replaces it: same counts, nothing doubled.
    again = await _import(
        client, shop, source="ga4_file", start=DAY.isoformat(), end=DAY.isoformat()
    )
    assert again["status"] == "completed"
    assert again["counts"]["replaced"] == sum(expected.values())
    assert _stored_types(owner_dsn, shop.tenant_id, "ga4_file") == expected
    listing = await client.get(f"{shop.base}/ingest/jobs", headers=shop.owner.headers)
    assert [j["id"] for j in listing.json()["data"]] == [again["id"], job["id"]]


async def test_a_reimport_only_replaces_its_own_source_and_range(
    client, owner_dsn, simulated_day
) -> None:
    shop = await new_shop(client)
    live = await client.post(
        f"{shop.base}/events", json=view(event_id="live-1"), headers=shop.key_headers
    )
    assert live.status_code == 202
    write_ga4_export(
        simulated_day[:50], tenant_import_dir(get_settings(), uuid.UUID(shop.tenant_id))
    )
    job = await _import(client, shop, source="ga4_file", start=DAY.isoformat(), end=DAY.isoformat())
    assert job["status"] == "completed"
    assert _stored_types(owner_dsn, shop.tenant_id, "api") == Counter({"view_item": 1})


async def test_import_requests_are_checked_before_queueing(client) -> None:
    shop = await new_shop(client)
    base = f"{shop.base}/ingest/jobs"
    headers = shop.owner.headers
    assert (
        await client.post(base, json={"source": "ga4_file"}, headers=headers)
    ).status_code == 422
    escape = {"source": "ga4_file", "start": "2026-01-01", "end": "2026-01-02", "path": "../../etc"}
    assert (await client.post(base, json=escape, headers=headers)).status_code in (404, 422)
    bigquery = {"source": "bigquery", "start": "2026-01-01", "end": "2026-01-02"}
    response = await client.post(base, json=bigquery, headers=headers)
    assert response.status_code == 409
    assert response.json()["type"].endswith("integration-not-configured")
    assert (await client.post(base, json={"source": "sftp"}, headers=headers)).status_code == 409
    missing = await client.get(f"{base}/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404


async def test_a_path_the_file_system_cannot_hold_is_a_422(client) -> None:
    shop = await new_shop(client)
    tenant_import_dir(get_settings(), uuid.UUID(shop.tenant_id)).mkdir(parents=True)
    body = {"source": "ga4_file", "start": "2000-01-01", "end": "2000-01-01", "path": "0" * 999}
    response = await client.post(f"{shop.base}/ingest/jobs", json=body, headers=shop.owner.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "path"


async def test_a_job_that_runs_too_long_fails_with_the_reason(client, simulated_day) -> None:
    shop = await new_shop(client)
    tenant = uuid.UUID(shop.tenant_id)
    write_ga4_export(simulated_day, tenant_import_dir(get_settings(), tenant))
    async with get_database().tenant_session(tenant) as session:
        job = IngestJob(
            tenant_id=tenant,
            source="ga4_file",
            start=DAY,
            end=DAY,
            status="queued",
            requested_by="test",
            options={},
            counts={},
        )
        session.add(job)
    status = await imports.run_import(tenant, job.id, timeout_s=0.01)
    assert status == "failed"
    response = await client.get(f"{shop.base}/ingest/jobs/{job.id}", headers=shop.owner.headers)
    body = response.json()
    assert body["status"] == "failed"
    assert "did not finish within" in body["error"]
    assert body["finished_at"] is not None


async def test_an_uploaded_export_file_is_imported(
    client, owner_dsn, simulated_day, tmp_path
) -> None:
    shop = await new_shop(client)
    (path,) = write_ga4_export(simulated_day, tmp_path)
    upload = await client.post(
        f"{shop.base}/ingest/import",
        params={"file_name": path.name},
        content=path.read_bytes(),
        headers={**shop.owner.headers, "Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 201, upload.text
    assert upload.json() == {"file_name": path.name, "bytes": path.stat().st_size}
    bad_name = await client.post(
        f"{shop.base}/ingest/import",
        params={"file_name": "../x.json"},
        content=b"{}",
        headers=shop.owner.headers,
    )
    assert bad_name.status_code == 422
    job = await _import(
        client, shop, source="ga4_file", start=DAY.isoformat(), end=DAY.isoformat(), path=path.name
    )
    assert job["status"] == "completed"
    assert _stored_types(owner_dsn, shop.tenant_id, "ga4_file") == Counter(
        e["type"] for e in simulated_day
    )


async def test_a_running_job_publishes_its_counts(client, simulated_day, monkeypatch) -> None:
    shop = await new_shop(client)
    tenant = uuid.UUID(shop.tenant_id)
    write_ga4_export(simulated_day, tenant_import_dir(get_settings(), tenant))
    async with get_database().tenant_session(tenant) as session:
        job = IngestJob(
            tenant_id=tenant,
            source="ga4_file",
            start=DAY,
            end=DAY,
            status="queued",
            requested_by="test",
            options={},
            counts={},
        )
        session.add(job)
    published: list[dict] = []
    real_set_status = imports._set_status

    async def observed(tenant_id, job_id, **values) -> None:
        published.append(values)
        await real_set_status(tenant_id, job_id, **values)

    monkeypatch.setattr(imports, "PROGRESS_EVERY_S", 0.001)
    monkeypatch.setattr(imports, "_set_status", observed)
    assert await imports.run_import(tenant, job.id) == "completed"
    progress = [v for v in published if set(v) == {"counts"}]
    assert progress, "no progress was published while the job ran"
    assert published[-1]["status"] == "completed"
    assert published[-1]["counts"]["accepted"] >= progress[-1]["counts"]["accepted"]
