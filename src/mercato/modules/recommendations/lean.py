"""`GET {T}/recommendations` answered from the cache without FastAPI (see kernel.lean).

The caller is vouched for from memory, its rate limit charged and the list looked up in
one Redis round trip; anything else — a list not cached, a caller not remembered, an
invalid query, a refusal — falls through to the route in router.py, which shares the
query model and the cache with this handler.
"""

from __future__ import annotations

from pydantic import ValidationError

from mercato.kernel.lean import LeanRequest, LeanResponse, LeanRoute
from mercato.kernel.permissions import Permission
from mercato.modules.identity import pass_gate
from mercato.modules.recommendations.cache import looked_up, queue_lookup
from mercato.modules.recommendations.router import LOOKUP_NOTE, RECOMMENDATIONS_PATH
from mercato.modules.recommendations.schemas import RecommendationParams
from mercato.modules.recommendations.serving import recommendation_query
from mercato.modules.recommendations.telemetry import count_lookup


async def cached_recommendations(request: LeanRequest) -> LeanResponse | None:
    try:
        params = RecommendationParams.model_validate(request.query)
    except ValidationError:
        return None
    query = recommendation_query(params)
    parts = query.cache_parts()
    passed = await pass_gate(
        request,
        permission=Permission.RECOMMENDATIONS_READ,
        route_path=RECOMMENDATIONS_PATH,
        queue=lambda pipe: queue_lookup(pipe, request.tenant_id, parts),
    )
    if passed is None:
        return None
    _, decision, reply = passed
    found = looked_up(reply)
    if found.body is None:
        request.note(LOOKUP_NOTE, (parts, found))  # the route computes without asking again
        return None
    count_lookup(query.strategy, hit=True)
    headers = [] if decision is None else decision.header_pairs()
    return LeanResponse(found.body, headers)


LEAN_ROUTES = [LeanRoute("GET", RECOMMENDATIONS_PATH, cached_recommendations)]
