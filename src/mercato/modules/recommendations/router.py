"""`GET {T}/recommendations` (API.md, Personalization)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mercato.kernel.deps import DbSession
from mercato.kernel.security import Principal
from mercato.modules.identity import require
from mercato.modules.recommendations.schemas import RecommendationList, RecommendationParams
from mercato.modules.recommendations.serving import recommend, recommendation_query

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["recommendations"])
RECOMMENDATIONS_PATH = "/api/v1/tenants/{tenant_id}/recommendations"


@router.get(
    "/recommendations",
    response_model=RecommendationList,
    responses={200: {"description": "Recommended products, best first"}},
)
async def get_recommendations(
    principal: Annotated[Principal, require("recommendations:read")],
    session: DbSession,
    params: Annotated[RecommendationParams, Query()],
) -> Response:
    assert principal.tenant_id is not None
    body = await recommend(session, principal.tenant_id, recommendation_query(params))
    return Response(content=body, media_type="application/json")
