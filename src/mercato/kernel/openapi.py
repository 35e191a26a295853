"""The OpenAPI document: stable operation ids, and the truth about errors.

Operation ids are `<module>_<handler>`: the domain module the route lives in (or, outside
`mercato.modules`, the file's name) and the handler function's name, e.g.
`catalog_put_product`. They depend on nothing else (not the path, not the method), so a
generated client keeps its method names when a path gains a parameter; one handler serves
one method, so two operations never share an id (`tests/test_openapi_contract.py`).

Every operation may answer problem+json.

FastAPI documents a 422 as `application/json` with its own `HTTPValidationError` shape and
nothing else, while every error Mercato sends is RFC 9457 `application/problem+json`
(see `mercato.kernel.errors`). Clients generated from the schema, and the schema fuzzer,
would otherwise treat each 401/403/404/409/429/503 as undocumented. Here each operation's
422 becomes a problem, and a `default` response covers every other error status.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from mercato.kernel.errors import PROBLEM_CONTENT_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `type` ends with a stable slug.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "location": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
}

FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operation_id(route: APIRoute) -> str:
    """`<module>_<handler>` (see the module docstring)."""
    parts = route.endpoint.__module__.split(".")
    module = parts[2] if parts[:2] == ["mercato", "modules"] else parts[-1]
    return f"{module}_{route.endpoint.__name__}"


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}}


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite `schema` in place so every operation documents its problem responses."""
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _problem_response("The request is not valid")
            responses.setdefault(
                "default", _problem_response("An error, as application/problem+json")
            )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    components["Problem"] = PROBLEM_SCHEMA
    return schema


def install_problem_docs(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json`) document problem responses."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
