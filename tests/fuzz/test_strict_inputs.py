"""Inputs the fuzzer found accepted against their schema: a 0 for a boolean, false for a
number. JSON Schema says those are the wrong type, so the API refuses them (422) instead
of coercing them the way pydantic's lax mode would."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from mercato.app import create_app
from mercato.modules.channels.feeds.schemas import MerchantLinkWrite
from mercato.modules.experiments.schemas import ExperimentCreate, ExperimentUpdate
from mercato.modules.profile.schemas import Geo, SpecialHours
from mercato.modules.widgets.schemas import Theme, WidgetWrite

EXPERIMENT = (
    '{"name": "0", "placement": "0", "control_strategy": "collaborative", '
    '"variant_strategy": "collaborative", "traffic_split": 0, "metric": "ctr"'
)
LINK = '{"content_language": "en", "data_source_id": "0", "feed_label": "0"'


@pytest.mark.parametrize(
    ("model", "wrong", "right"),
    [
        (
            ExperimentCreate,
            EXPERIMENT + ', "sequential": 0}',
            EXPERIMENT + ', "sequential": false}',
        ),
        (ExperimentUpdate, '{"sequential": 1}', '{"sequential": true}'),
        (ExperimentUpdate, '{"traffic_split": true}', '{"traffic_split": 50}'),
        (MerchantLinkWrite, LINK + ', "daily_push": 0}', LINK + ', "daily_push": false}'),
        (Geo, '{"lat": 0.0, "lon": false}', '{"lat": 0.0, "lon": 13}'),
        (Theme, '{"border_radius": false}', '{"border_radius": 4}'),
        (WidgetWrite, '{"show_price": 0}', '{"show_price": false}'),
        (WidgetWrite, '{"columns": true}', '{"columns": 3}'),
        (
            SpecialHours,
            '{"date": "2026-12-24", "closed": 1}',
            '{"date": "2026-12-24", "closed": true}',
        ),
        (SpecialHours, '{"date": 0}', '{"date": "2026-12-24"}'),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(
    model: type[BaseModel], wrong: str, right: str
) -> None:
    with pytest.raises(ValidationError):
        model.model_validate_json(wrong)
    model.model_validate_json(right)


def test_digits_outside_ascii_are_not_numbers_anywhere_they_are_read_as_numbers() -> None:
    from mercato.kernel.signatures import sign, verify
    from mercato.modules.catalog.gtin import is_valid_gtin

    assert not is_valid_gtin("400638133393²")
    assert is_valid_gtin("4006381333931")
    body = b"{}"
    good = sign("s3cret", body, timestamp=1_700_000_000)
    assert verify("s3cret", good, body, now=1_700_000_000)
    assert not verify("s3cret", "t=²,v1=00", body, now=1_700_000_000)


def _request_body_schema_names(spec: dict[str, Any]) -> set[str]:
    """Every component a request body uses, directly or nested."""
    names: set[str] = set()

    def collect(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and (name := ref.rsplit("/", 1)[-1]) not in names:
                names.add(name)
                collect(spec["components"]["schemas"].get(name, {}))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for operations in spec["paths"].values():
        for operation in operations.values():
            collect(operation.get("requestBody", {}))
    return names


def _lax_scalars(schema: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Paths of bool/int/float validators in a pydantic core schema that coerce other types."""
    if isinstance(schema, dict):
        found = []
        kind = schema.get("type")
        if isinstance(kind, str) and kind in {"bool", "int", "float"} and not schema.get("strict"):
            found.append(path)
        for key, value in schema.items():
            found += _lax_scalars(value, (*path, key))
        return found
    if isinstance(schema, list):
        return [p for i, value in enumerate(schema) for p in _lax_scalars(value, (*path, i))]
    return []


def _mercato_models() -> dict[str, list[type[BaseModel]]]:
    found: dict[str, list[type[BaseModel]]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if model.__module__.startswith("mercato."):
                found.setdefault(model.__name__, []).append(model)
    return found


def test_no_request_body_coerces_a_scalar_of_the_wrong_json_type() -> None:
    """Every boolean and number a client sends is strict, so `0` is never `false`."""
    spec = create_app().openapi()
    models = _mercato_models()
    bodies = [model for name in _request_body_schema_names(spec) for model in models.get(name, [])]
    assert len(bodies) > 50  # the walk found the request models, not an empty set
    lax = {
        f"{model.__module__}.{model.__qualname__}": _lax_scalars(model.__pydantic_core_schema__)
        for model in bodies
    }
    assert {name: paths for name, paths in lax.items() if paths} == {}
