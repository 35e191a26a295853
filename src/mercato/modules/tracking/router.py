"""Tracking routes: event ingestion, look-ups, availability and ingestion jobs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from mercato.kernel.deps import DbSession
from mercato.kernel.errors import NotFound, ValidationFailed
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.kernel.timestamps import Timestamp
from mercato.modules.identity import require
from mercato.modules.tracking import freshness, ga4_import, imports, ingest, lookups
from mercato.modules.tracking.schemas import (
    Availability,
    BatchAccepted,
    EventIn,
    EventRead,
    EventType,
    Ga4Freshness,
    IngestAccepted,
    IngestJobCreate,
    IngestJobRead,
    QueryDate,
    RejectedEvent,
    Timeline,
    UploadedFile,
    batch_body_schema,
)
from mercato.settings import get_settings

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["tracking"])
# The ingestion routes also have lean handlers (lean.py), tried before FastAPI's routing.
EVENTS_PATH = "/api/v1/tenants/{tenant_id}/events"
BATCH_PATH = "/api/v1/tenants/{tenant_id}/events/batch"

EventsWriter = Annotated[TenantPrincipal, require(Permission.EVENTS_WRITE)]
EventsReader = Annotated[TenantPrincipal, require(Permission.EVENTS_READ)]
Importer = Annotated[TenantPrincipal, require(Permission.EVENTS_IMPORT)]


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, response_model=IngestAccepted)
async def post_event(event: EventIn, session: DbSession, principal: EventsWriter) -> IngestAccepted:
    outcome = await ingest.record_events(session, principal, [event])
    if outcome.rejected:
        raise ValidationFailed("The event is not valid", errors=outcome.rejected[0]["errors"])
    return IngestAccepted(accepted=outcome.accepted, duplicates=outcome.duplicates)


@router.post(
    "/events/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": batch_body_schema()}},
        }
    },
)
async def post_event_batch(
    request: Request, session: DbSession, principal: EventsWriter
) -> BatchAccepted:
    """Up to 1,000 events; each bad one is rejected on its own (read straight from the bytes)."""
    outcome = await ingest.record_batch(session, principal, await request.body())
    return BatchAccepted(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=[RejectedEvent(**item) for item in outcome.rejected],
    )


@router.get("/events", response_model=Page[EventRead])
async def list_events(
    session: DbSession,
    principal: EventsReader,
    user_id: str | None = None,
    type: EventType | None = None,
    start: Timestamp | None = None,
    end: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[EventRead]:
    rows, next_cursor = await lookups.list_events(
        session,
        principal,
        user_id=user_id,
        type=type,
        start=start,
        end=end,
        limit=limit,
        cursor=cursor,
    )
    return Page[EventRead](data=rows, next_cursor=next_cursor)


@router.get("/users/{user_id}/timeline", response_model=Timeline)
async def user_timeline(
    user_id: str,
    session: DbSession,
    principal: EventsReader,
    start: Timestamp | None = None,
    end: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: str | None = None,
) -> Timeline:
    return await lookups.user_timeline(
        session, principal, user_id, start=start, end=end, limit=limit, cursor=cursor
    )


@router.get("/ingest/availability", response_model=Availability)
async def ingest_availability(
    session: DbSession,
    principal: EventsReader,
    start: QueryDate | None = None,
    end: QueryDate | None = None,
) -> Availability:
    return await lookups.availability(session, principal, start=start, end=end)


@router.post("/ingest/jobs", status_code=status.HTTP_202_ACCEPTED, response_model=IngestJobRead)
async def create_ingest_job(
    body: IngestJobCreate,
    session: DbSession,
    principal: Importer,
) -> IngestJobRead:
    job = await imports.request_import(session, principal, body)
    return IngestJobRead.model_validate(job)


@router.post(
    "/ingest/import",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadedFile,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        }
    },
)
async def upload_export_file(
    request: Request,
    principal: Importer,
    file_name: Annotated[str, Query(pattern=ga4_import.EXPORT_FILE_NAME)],
) -> UploadedFile:
    """Upload one GA4 export file (`events_YYYYMMDD.json[.gz]`, the raw body) for import."""
    size = await ga4_import.save_export_file(
        get_settings(), principal.tenant_id, file_name, request.stream()
    )
    return UploadedFile(file_name=file_name, bytes=size)


@router.delete("/ingest/import/{file_name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_export_file(
    principal: Importer,
    file_name: Annotated[str, Path(pattern=ga4_import.EXPORT_FILE_NAME)],
) -> Response:
    """Remove an uploaded export file (imported events stay), freeing the tenant's quota."""
    if principal.tenant_id is None:
        raise NotFound("No such tenant")
    await ga4_import.delete_export_file(get_settings(), principal.tenant_id, file_name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/ingest/jobs", response_model=Page[IngestJobRead])
async def list_ingest_jobs(
    session: DbSession,
    principal: EventsReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[IngestJobRead]:
    jobs, next_cursor = await imports.list_jobs(session, principal, limit=limit, cursor=cursor)
    return Page[IngestJobRead](
        data=[IngestJobRead.model_validate(job) for job in jobs], next_cursor=next_cursor
    )


@router.get("/ingest/jobs/{job_id}", response_model=IngestJobRead)
async def get_ingest_job(
    job_id: uuid.UUID, session: DbSession, principal: EventsReader
) -> IngestJobRead:
    return IngestJobRead.model_validate(await imports.get_job(session, principal, job_id))


@router.get("/ingest/freshness", response_model=Ga4Freshness)
async def ga4_freshness(
    session: DbSession,
    principal: EventsReader,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
) -> Ga4Freshness:
    """Per day (yesterday first) whether its GA4 data is complete; stale or not."""
    return await freshness.ga4_freshness(session, principal.tenant_id, days=days)
