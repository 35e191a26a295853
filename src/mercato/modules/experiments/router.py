"""`{T}/experiments`: create, list, read, start / pause / complete, results."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.experiments import service
from mercato.modules.experiments.schemas import (
    ExperimentCreate,
    ExperimentList,
    ExperimentRead,
    ExperimentResults,
    ExperimentUpdate,
)
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/experiments", tags=["experiments"])
Reader = Annotated[TenantPrincipal, require(Permission.EXPERIMENTS_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.EXPERIMENTS_WRITE)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ExperimentRead)
async def create_experiment(
    body: ExperimentCreate, principal: Writer, session: DbSession, meta: Meta
) -> ExperimentRead:
    experiment = await service.create_experiment(session, principal.tenant_id, body)
    await record_audit(
        session,
        actor=principal,
        action="experiment.created",
        target=f"experiment:{experiment.id}",
        changes={"status": {"from": None, "to": "draft"}},
        meta=meta,
    )
    return service.to_read(experiment)


@router.get("", response_model=ExperimentList)
async def list_experiments(
    principal: Reader, session: DbSession, limit: int | None = None, cursor: str | None = None
) -> ExperimentList:
    return await service.list_experiments(session, limit=limit, cursor=cursor)


@router.get("/{experiment_id}", response_model=ExperimentRead)
async def get_experiment(
    experiment_id: uuid.UUID, principal: Reader, session: DbSession
) -> ExperimentRead:
    return service.to_read(
        await service.get_experiment(session, principal.tenant_id, experiment_id)
    )


@router.patch("/{experiment_id}", response_model=ExperimentRead)
async def update_experiment(
    experiment_id: uuid.UUID,
    body: ExperimentUpdate,
    principal: Writer,
    session: DbSession,
    meta: Meta,
) -> ExperimentRead:
    before = service.snapshot(
        await service.get_experiment(session, principal.tenant_id, experiment_id)
    )
    experiment = await service.update_experiment(session, principal.tenant_id, experiment_id, body)
    await record_audit(
        session,
        actor=principal,
        action="experiment.updated",
        target=f"experiment:{experiment.id}",
        changes=field_changes(before, service.snapshot(experiment)),
        meta=meta,
    )
    return service.to_read(experiment)


@router.delete("/{experiment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_experiment(
    experiment_id: uuid.UUID, principal: Writer, session: DbSession, meta: Meta
) -> Response:
    experiment = await service.delete_experiment(session, principal.tenant_id, experiment_id)
    await record_audit(
        session,
        actor=principal,
        action="experiment.deleted",
        target=f"experiment:{experiment.id}",
        changes={"status": {"from": "draft", "to": None}},
        meta=meta,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _move(
    action: str,
    experiment_id: uuid.UUID,
    principal: TenantPrincipal,
    session: DbSession,
    meta: Meta,
) -> ExperimentRead:
    before = (await service.get_experiment(session, principal.tenant_id, experiment_id)).status
    experiment = await service.move(session, principal.tenant_id, experiment_id, action)
    await record_audit(
        session,
        actor=principal,
        action=f"experiment.{action}",
        target=f"experiment:{experiment.id}",
        changes={"status": {"from": before, "to": experiment.status}},
        meta=meta,
    )
    return service.to_read(experiment)


@router.post("/{experiment_id}/start", response_model=ExperimentRead)
async def start_experiment(
    experiment_id: uuid.UUID, principal: Writer, session: DbSession, meta: Meta
) -> ExperimentRead:
    return await _move("start", experiment_id, principal, session, meta)


@router.post("/{experiment_id}/pause", response_model=ExperimentRead)
async def pause_experiment(
    experiment_id: uuid.UUID, principal: Writer, session: DbSession, meta: Meta
) -> ExperimentRead:
    return await _move("pause", experiment_id, principal, session, meta)


@router.post("/{experiment_id}/complete", response_model=ExperimentRead)
async def complete_experiment(
    experiment_id: uuid.UUID, principal: Writer, session: DbSession, meta: Meta
) -> ExperimentRead:
    return await _move("complete", experiment_id, principal, session, meta)


@router.get("/{experiment_id}/results", response_model=ExperimentResults)
async def experiment_results(
    experiment_id: uuid.UUID, principal: Reader, session: DbSession
) -> ExperimentResults:
    return await service.experiment_results(session, principal.tenant_id, experiment_id)
