"""The committed reference files equal what the code generates: the OpenAPI contract
(`openapi.json`), the settings reference (`docs/configuration.md`) and `.env.example`.
A change to a route, a schema or a setting fails here until the files are regenerated, so
every change of the public contract shows up in review."""

from __future__ import annotations

import collections
import warnings
from pathlib import Path

from mercato.app import create_app
from mercato.reference import (
    CONFIGURATION_FILE,
    ENV_EXAMPLE_FILE,
    OPENAPI_FILE,
    configuration_markdown,
    env_example,
    openapi_json,
    openapi_schema,
)
from mercato.settings import Settings

ROOT = Path(__file__).parents[1]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _operations(schema: dict) -> list[tuple[str, str, str]]:
    return [
        (operation["operationId"], method, path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _stale(name: str, command: str) -> str:
    return f"{name} is out of date with the code: run `{command}` and commit the result"


def test_the_openapi_snapshot_is_what_the_app_publishes() -> None:
    committed = (ROOT / OPENAPI_FILE).read_text(encoding="utf-8")
    assert openapi_json(openapi_schema()) == committed, _stale(OPENAPI_FILE, "make openapi")


def test_operation_ids_are_unique_with_and_without_the_sandbox() -> None:
    for settings in (Settings(google_sandbox=False), Settings(google_sandbox=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FastAPI warns about a duplicate id
            schema = create_app(settings).openapi()
        counts = collections.Counter(op_id for op_id, _, _ in _operations(schema))
        assert [op_id for op_id, n in counts.items() if n > 1] == []


def test_operation_ids_read_module_then_handler() -> None:
    by_route = {(method, path): op_id for op_id, method, path in _operations(openapi_schema())}
    assert by_route[("get", "/health")] == "probes_health"
    assert by_route[("post", "/api/v1/auth/login")] == "identity_login"
    assert by_route[("get", "/feeds/{feed_token}.tsv")] == "channels_feed_tsv"
    assert by_route[("head", "/feeds/{feed_token}.tsv")] == "channels_feed_tsv_head"
    assert all(op_id.isidentifier() and op_id.islower() for op_id in by_route.values())


def test_the_settings_reference_and_env_example_match_the_settings_class() -> None:
    configuration = (ROOT / CONFIGURATION_FILE).read_text(encoding="utf-8")
    assert configuration_markdown() == configuration, _stale(
        CONFIGURATION_FILE, "make settings-docs"
    )
    example = (ROOT / ENV_EXAMPLE_FILE).read_text(encoding="utf-8")
    assert env_example() == example, _stale(ENV_EXAMPLE_FILE, "make settings-docs")


def test_every_setting_is_described_and_listed() -> None:
    configuration = (ROOT / CONFIGURATION_FILE).read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description= in mercato.settings"
        variable = field.validation_alias or f"MERCATO_{name.upper()}"
        assert f"`{variable}`" in configuration
        assert f"# {variable}=" in env_example()
