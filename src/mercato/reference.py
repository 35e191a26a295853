"""Reference files generated from the code, committed, and kept in step by the tests.

- `openapi.json`: the API contract as the app publishes it at `/openapi.json`, with
  default settings (no Merchant API sandbox), two-space indented, so a change of any
  path, parameter, status code or field shows up in review (`make openapi`);
- `docs/configuration.md` and `.env.example`: every `MERCATO_*` setting with its default,
  limits and description, from `mercato.settings.Settings` (`make settings-docs`).

Run `python -m mercato.reference openapi|settings [ROOT]`; ROOT defaults to the current
directory (the repository's root).
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from mercato.app import create_app
from mercato.settings import Settings

OPENAPI_FILE = "openapi.json"
CONFIGURATION_FILE = "docs/configuration.md"
ENV_EXAMPLE_FILE = ".env.example"

CONFIGURATION_INTRO = """\
# Configuration

<!-- Generated from src/mercato/settings.py by `make settings-docs`; do not edit by hand. -->

Mercato reads every setting from an environment variable prefixed `MERCATO_`, or from a
`.env` file in the working directory ([`.env.example`](../.env.example) lists them all,
commented out). Values are validated when a process starts: a bad one stops it with a
message naming the variable. With `MERCATO_ENV=production` the process also refuses to
start while `MERCATO_SECRET_KEY`, `MERCATO_METRICS_TOKEN`, `MERCATO_DATABASE_URL` or
`MERCATO_REDIS_URL` is missing or left at its development default, or while the Google
sandbox is on. The checklist for going live is in [production.md](production.md); the
rate-limit groups are in [identity.md](identity.md#rate-limits).

| variable | default | limits | meaning |
|---|---|---|---|
"""

ENV_EXAMPLE_INTRO = """\
# Mercato settings (generated from src/mercato/settings.py by `make settings-docs`).
# Copy to .env and uncomment what you change; the values shown are the defaults.
# Reference: docs/configuration.md
"""


def variable_name(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    return alias if isinstance(alias, str) else f"MERCATO_{name.upper()}"


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return None if field.default is PydanticUndefined else field.default


def env_value(value: Any) -> str:
    """A default as it would be written in a .env file."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list):
        return ",".join(env_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value) if value else ""
    return str(value)


def _limits(field: FieldInfo) -> str:
    found = []
    for constraint in field.metadata:
        if isinstance(constraint, Ge):
            found.append(f"≥ {constraint.ge}")
        elif isinstance(constraint, Gt):
            found.append(f"> {constraint.gt}")
        elif isinstance(constraint, Le):
            found.append(f"≤ {constraint.le}")
        elif isinstance(constraint, Lt):
            found.append(f"< {constraint.lt}")
    return ", ".join(found)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def configuration_markdown() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        value = env_value(_default(field))
        shown = f"`{value}`" if value else "unset"
        rows.append(
            f"| `{variable_name(name, field)}` | {_cell(shown)} | {_limits(field)} | "
            f"{_cell(field.description or '')} |"
        )
    return CONFIGURATION_INTRO + "\n".join(rows) + "\n"


def env_example() -> str:
    blocks = [ENV_EXAMPLE_INTRO]
    for name, field in Settings.model_fields.items():
        limits = _limits(field)
        note = f" ({limits})" if limits else ""
        blocks.append(
            f"# {field.description}{note}\n"
            f"# {variable_name(name, field)}={env_value(_default(field))}\n"
        )
    return "\n".join(blocks)


def openapi_schema() -> dict[str, Any]:
    """The app's schema with default settings (the sandbox router left out)."""
    schema: dict[str, Any] = create_app(Settings(google_sandbox=False)).openapi()
    return schema


def openapi_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write(kind: str, root: Path) -> list[Path]:
    """Regenerate the `kind` files under `root`; returns what was written."""
    if kind == "openapi":
        outputs = {OPENAPI_FILE: openapi_json(openapi_schema())}
    elif kind == "settings":
        outputs = {CONFIGURATION_FILE: configuration_markdown(), ENV_EXAMPLE_FILE: env_example()}
    else:
        raise ValueError(f"unknown reference {kind!r}: openapi or settings")
    written = []
    for name, text in outputs.items():
        path = root / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(sys.argv[1], Path(sys.argv[2] if len(sys.argv) > 2 else ".")):
        print(f"wrote {path}", file=sys.stderr)
