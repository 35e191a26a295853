"""Fixtures for tests that break live deployments on purpose."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.hardening.live import Deployment
from tests.hardening.load import Outcome


@pytest.fixture(scope="session")
def own_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A migrated deployment with its own embedded PostgreSQL and Redis.

    Shared by every test that breaks things; each leaves the servers running again and
    stops the Mercato processes it started.
    """
    deployment = Deployment.embedded(tmp_path_factory.mktemp("deployment"))
    try:
        deployment.run("migrate")
        yield deployment
    finally:
        deployment.close()


@pytest.fixture
def deployment(own_deployment: Deployment) -> Iterator[Deployment]:
    """The shared deployment; the Mercato processes a test starts are stopped after it."""
    try:
        yield own_deployment
    finally:
        own_deployment.stop_processes()


def acknowledged_writes_missing(deployment: Deployment, outcomes: list[Outcome]) -> list[str]:
    """Writes the server answered 2xx to that are not in the database (as the owner)."""
    written = [o.written for o in outcomes if o.written]
    locations = {w.split(":", 1)[1] for w in written if w.startswith("location:")}
    webhooks = {w.split(":", 1)[1] for w in written if w.startswith("webhook:")}
    with psycopg.connect(deployment.owner_dsn()) as conn:
        found_locations = {
            row[0]
            for row in conn.execute(
                "SELECT code FROM location WHERE code = ANY(%s)", [list(locations)]
            )
        }
        found_webhooks = {
            str(row[0])
            for row in conn.execute(
                "SELECT id::text FROM webhook_endpoint WHERE id::text = ANY(%s)", [list(webhooks)]
            )
        }
    return sorted(
        [f"location:{c}" for c in locations - found_locations]
        + [f"webhook:{i}" for i in webhooks - found_webhooks]
    )


def unexpected_answers(outcomes: list[Outcome], allowed: set[int]) -> list[str]:
    """Every outcome whose status is not allowed, or whose error is not problem+json."""
    wrong = []
    for o in outcomes:
        if o.status is None or o.status not in allowed:
            wrong.append(f"{o.operation}: {o.status} {o.error or o.problem}")
        elif o.status >= 400 and not o.is_problem_json:
            wrong.append(f"{o.operation}: {o.status} is not problem+json ({o.content_type})")
    return wrong
