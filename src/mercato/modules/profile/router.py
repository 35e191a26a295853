"""`{T}/profile`: the business profile, its validation and its JSON-LD."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import require
from mercato.modules.profile import service
from mercato.modules.profile.jsonld import local_business
from mercato.modules.profile.schemas import (
    ProfilePatch,
    ProfileRead,
    ProfileValidation,
    ProfileWrite,
)
from mercato.modules.profile.validation import validate_profile

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/profile", tags=["profile"])
Reader = Annotated[TenantPrincipal, require(Permission.PROFILE_READ)]
Writer = Annotated[TenantPrincipal, require(Permission.PROFILE_WRITE)]


async def _current(principal: TenantPrincipal, session: DbSession) -> ProfileRead:
    return service.to_read(await service.get_profile(session, principal.tenant_id))


@router.get("", response_model=ProfileRead, summary="The business profile (empty until saved)")
async def get_profile(principal: Reader, session: DbSession) -> ProfileRead:
    return await _current(principal, session)


@router.put("", response_model=ProfileRead, summary="Replace the profile; unsent fields clear")
async def put_profile(
    body: ProfileWrite, principal: Writer, session: DbSession, meta: Meta
) -> ProfileRead:
    profile = await service.save_profile(
        session, principal.tenant_id, principal, body, meta, replace=True
    )
    return service.to_read(profile)


@router.patch("", response_model=ProfileRead, summary="Change only the fields sent")
async def patch_profile(
    body: ProfilePatch, principal: Writer, session: DbSession, meta: Meta
) -> ProfileRead:
    profile = await service.save_profile(
        session, principal.tenant_id, principal, body, meta, replace=False
    )
    return service.to_read(profile)


@router.get("/validation", response_model=ProfileValidation)
async def profile_validation(principal: Reader, session: DbSession) -> ProfileValidation:
    """Problems to fix: missing NAP parts, bad phone, overlapping hours, SEO text …"""
    return validate_profile(await _current(principal, session), today=datetime.now(UTC).date())


@router.get(
    "/jsonld",
    response_class=JSONResponse,
    responses={200: {"content": {"application/ld+json": {}}}},
    summary="schema.org LocalBusiness JSON-LD",
)
async def profile_jsonld(principal: Reader, session: DbSession) -> JSONResponse:
    document: dict[str, Any] = local_business(await _current(principal, session))
    return JSONResponse(document, media_type="application/ld+json")
