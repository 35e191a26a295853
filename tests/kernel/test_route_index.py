"""The routers' path guards refuse only paths their router could not have matched."""

from __future__ import annotations

import re
import uuid

import httpx
from fastapi import APIRouter, FastAPI
from starlette.routing import Match

from mercato.kernel.route_index import _Guard, guard_routers

PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
SAMPLES = {"uuid": str(uuid.uuid4()), "int": "7", "path": "a/b.txt", "float": "1.5"}


def _sample_path(template: str) -> str:
    return PARAM.sub(lambda m: SAMPLES.get(m.group(2) or "", "x7"), template)


def _scope(path: str, method: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _templates(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for entry in app.router.routes:
        if getattr(entry, "original_router", None) is None:
            continue
        for context in entry.effective_route_contexts():  # type: ignore[attr-defined]
            template = getattr(context, "path_format", "") or ""
            for method in sorted(getattr(context, "methods", None) or {"GET"}):
                found.append((template, method))
    return found


def test_every_router_of_the_app_is_guarded(app: FastAPI) -> None:
    entries = [e for e in app.router.routes if getattr(e, "original_router", None) is not None]
    assert entries
    assert all(isinstance(e.matches, _Guard) for e in entries)


def test_a_guard_answers_as_its_router_for_every_route_of_the_app(app: FastAPI) -> None:
    templates = _templates(app)
    assert len(templates) > 200
    paths = [(_sample_path(t), m) for t, m in templates]
    paths += [("/no/such/path", "GET"), (f"/api/v1/tenants/{uuid.uuid4()}/nothing", "POST")]
    refused = 0
    for path, method in paths:
        scope = _scope(path, method)
        for entry in app.router.routes:
            guard = entry.matches
            if not isinstance(guard, _Guard):
                continue
            guarded, _ = guard(dict(scope))
            unguarded, _ = guard.inner(dict(scope))
            assert guarded == unguarded, (path, method, entry)
            refused += guarded == Match.NONE
    assert refused > len(paths)  # the guards do refuse most routers for most paths


async def test_a_route_added_to_a_guarded_router_is_reached() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/things")

    @router.get("/old")
    async def old() -> dict[str, str]:
        return {"route": "old"}

    app.include_router(router)
    guard_routers(app)

    @router.get("/new/{thing_id}")
    async def new(thing_id: int) -> dict[str, int]:
        return {"thing_id": thing_id}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/things/old")).json() == {"route": "old"}
        assert (await http.get("/things/new/3")).json() == {"thing_id": 3}
        assert (await http.get("/things/none")).status_code == 404
        assert (await http.post("/things/old")).status_code == 405
