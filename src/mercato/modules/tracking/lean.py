"""`POST {T}/events` and `POST {T}/events/batch` answered before FastAPI (see kernel.lean).

The body is parsed and checked with the routes' own models and rules, the caller vouched
for from memory with its rate limit charged in one Redis round trip (`pass_gate`), and
the events stored by the group commit, as the routes store them. Anything else — a body
that is not JSON or holds an invalid event, a caller not remembered, a refusal, a commit
that failed — falls through to the route in router.py, which answers it as always (a
failed commit stored nothing, so the route trying once more is safe).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from mercato.kernel.errors import DomainError
from mercato.kernel.lean import LeanRequest, LeanResponse, LeanRoute
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import pass_gate
from mercato.modules.tracking import ingest
from mercato.modules.tracking.router import BATCH_PATH, EVENTS_PATH
from mercato.modules.tracking.schemas import BatchAccepted, EventIn, IngestAccepted
from mercato.modules.tracking.validation import ClockWindow, EventRow, check_event

PERMISSION = Permission.EVENTS_WRITE


def _json_body(request: LeanRequest) -> Any:
    """The body as FastAPI reads a JSON body parameter, or None to let the route decide."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return None


Headers = list[tuple[bytes, bytes]]


async def _gate(request: LeanRequest, path: str) -> tuple[TenantPrincipal, Headers] | None:
    passed = await pass_gate(request, permission=PERMISSION, route_path=path)
    if passed is None:
        return None
    principal, decision, _ = passed
    return principal, [] if decision is None else decision.header_pairs()


async def _commit(
    principal: TenantPrincipal, rows: list[EventRow], rejected: list[dict[str, Any]]
) -> ingest.IngestOutcome | None:
    try:
        return await ingest.commit_rows(principal.tenant_id, rows, rejected)
    except Exception:  # nothing stored: the route tries again and answers the error
        return None


async def post_event(request: LeanRequest) -> LeanResponse | None:
    parsed = _json_body(request)
    if not isinstance(parsed, dict):
        return None
    try:
        event = EventIn.model_validate(parsed)
    except ValidationError:
        return None
    row, _ = check_event(event, ClockWindow.around(datetime.now(UTC)))
    if row is None:
        return None
    gate = await _gate(request, EVENTS_PATH)
    if gate is None:
        return None
    principal, headers = gate
    outcome = await _commit(principal, [row], [])
    if outcome is None:
        return None
    answer = IngestAccepted(accepted=outcome.accepted, duplicates=outcome.duplicates)
    return LeanResponse(answer.model_dump_json().encode(), headers, status=202)


async def post_batch(request: LeanRequest) -> LeanResponse | None:
    try:
        rows, rejected = ingest.check_batch_body(request.body)
    except DomainError:
        return None
    gate = await _gate(request, BATCH_PATH)
    if gate is None:
        return None
    principal, headers = gate
    outcome = await _commit(principal, rows, rejected)
    if outcome is None:
        return None
    answer = BatchAccepted.model_validate(
        {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected}
    )
    return LeanResponse(answer.model_dump_json().encode(), headers, status=202)


LEAN_ROUTES = [
    LeanRoute("POST", EVENTS_PATH, post_event, reads_body=True),
    LeanRoute("POST", BATCH_PATH, post_batch, reads_body=True),
]
