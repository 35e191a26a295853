"""`GET {T}/recommendations` and `{T}/recommendations/models` (API.md, Personalization)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import require
from mercato.modules.recommendations.model_versions import list_models, request_fit
from mercato.modules.recommendations.schemas import (
    FitQueued,
    ModelList,
    RecommendationList,
    RecommendationParams,
)
from mercato.modules.recommendations.serving import recommend, recommendation_query

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["recommendations"])
RECOMMENDATIONS_PATH = "/api/v1/tenants/{tenant_id}/recommendations"
# The lean handler's cache lookup of this request (the cache parts and what it found).
LOOKUP_NOTE = "mercato.reco_lookup"


@router.get(
    "/recommendations",
    response_model=RecommendationList,
    responses={200: {"description": "Recommended products, best first"}},
)
async def get_recommendations(
    request: Request,
    principal: Annotated[TenantPrincipal, require(Permission.RECOMMENDATIONS_READ)],
    session: DbSession,
    params: Annotated[RecommendationParams, Query()],
) -> Response:
    query = recommendation_query(params)
    note = request.scope.get("state", {}).get(LOOKUP_NOTE)
    found = note[1] if note is not None and note[0] == query.cache_parts() else None
    body = await recommend(session, principal.tenant_id, query, found)
    return Response(content=body, media_type="application/json")


@router.get("/recommendations/models", response_model=ModelList)
async def get_models(
    principal: Annotated[TenantPrincipal, require(Permission.RECOMMENDATION_MODELS_READ)],
    session: DbSession,
) -> ModelList:
    return await list_models(session, principal)


@router.post(
    "/recommendations/models",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FitQueued,
    responses={409: {"description": "A fit of the tenant waits or runs already"}},
)
async def fit_model_now(
    principal: Annotated[TenantPrincipal, require(Permission.RECOMMENDATION_MODELS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> FitQueued:
    return await request_fit(session, principal, meta)
