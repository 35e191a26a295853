"""Schema fuzzing under pytest: every operation of the OpenAPI schema, as an owner and a key.

The API runs as a live `mercato serve` subprocess on the hardening deployment (its own
PostgreSQL and Redis, so the fuzzer's side effects never reach the suite's job queue),
and schemathesis loads the schema from it over HTTP: the server's lifespan opens its
pools in its own event loop, none of them shared with pytest's. Each operation gets a
few generated cases (`MAX_EXAMPLES`); `make fuzz` runs the CLI with more.
Checks are schemathesis' defaults as configured in `tests/fuzz/schemathesis.toml`:
no 5xx, status codes, content types, headers and bodies as documented (errors are
problem+json by the schema), invalid input refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from tests.hardening.live import Deployment, Server
from tests.hardening.merchant import Merchant, open_merchant

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).parents[1] / "fuzz" / "schemathesis.toml"
MAX_EXAMPLES = 6
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_server(own_deployment: Deployment) -> Iterator[Server]:
    server = own_deployment.serve("api-fuzz")
    try:
        yield server
    finally:
        server.stop()


def _schema_for(server: Server, merchant: Merchant) -> BaseSchema:
    """The live schema, with the checks, exclusions and tenant `make fuzz` uses."""
    with mock.patch.dict(os.environ, {"MERCATO_FUZZ_TENANT": merchant.tenant_id}):
        config = SchemathesisConfig.from_path(CONFIG)
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)


@pytest.fixture(scope="module")
def owner(fuzz_server: Server) -> Merchant:
    return open_merchant(fuzz_server.url, "pytest-fuzz-owner")


@pytest.fixture(scope="module")
def keyholder(fuzz_server: Server) -> Merchant:
    return open_merchant(fuzz_server.url, "pytest-fuzz-key")


@pytest.fixture(scope="module")
def owner_schema(fuzz_server: Server, owner: Merchant) -> BaseSchema:
    return _schema_for(fuzz_server, owner)


@pytest.fixture(scope="module")
def key_schema(fuzz_server: Server, keyholder: Merchant) -> BaseSchema:
    return _schema_for(fuzz_server, keyholder)


def _fuzz_every_operation(
    schema: BaseSchema, merchant: Merchant, headers: dict[str, str]
) -> list[str]:
    """Run every operation's generated cases; the failures, one line per operation."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def fuzz_operation(case: Case) -> None:
            if case.path_parameters and "tenant_id" in case.path_parameters:
                case.path_parameters["tenant_id"] = merchant.tenant_id
            case.call_and_validate(headers=headers, timeout=30)

        try:
            fuzz_operation()
        except Exception as exc:  # every kind of check failure, reported together
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            failures.append(f"{operation.label}: {first_line}")
    return failures


def test_every_operation_as_an_owner(owner_schema: BaseSchema, owner: Merchant) -> None:
    assert _fuzz_every_operation(owner_schema, owner, owner.headers) == []


def test_every_operation_with_an_api_key(key_schema: BaseSchema, keyholder: Merchant) -> None:
    assert _fuzz_every_operation(key_schema, keyholder, {"X-API-Key": keyholder.api_key}) == []
