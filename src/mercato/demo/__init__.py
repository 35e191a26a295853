"""`mercato serve --demo`: migrate, seed the demo tenant once, print how to log in.

Each file of this package seeds one capability and has `STEPS`, a list of `SeedStep`
(demo data lives here, not inside the product modules). Steps run in `order`, each at
most once per database (recorded in `demo_seed_step`), so a second start reuses the data
and a step added by a later release runs on the next start. A step must be safe
to re-run if it was interrupted before being recorded.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from rich.progress import Progress
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.kernel.db import Database, close_database, init_database
from mercato.kernel.migrate import upgrade
from mercato.kernel.redis import close_redis, init_redis
from mercato.modules.identity import resolve_tenant
from mercato.settings import Settings

DEMO_TENANT_SLUG = "demo"
DEMO_OWNER_EMAIL = "owner@nordic-home.example"


@dataclass
class DemoContext:
    settings: Settings
    database: Database
    credentials: dict[str, str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SeedStep:
    name: str
    order: int
    run: Callable[[DemoContext], Awaitable[None]]


async def demo_tenant_id(context: DemoContext) -> uuid.UUID:
    """The demo tenant, for seed steps that run after identity created it."""
    return await resolve_tenant(context.database, DEMO_TENANT_SLUG)


def demo_credentials(settings: Settings) -> dict[str, str]:
    """The demo login, made once and kept (owner-readable only) in the data directory."""
    path = Path(settings.data_dir) / "demo-credentials.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    credentials = {"email": DEMO_OWNER_EMAIL, "password": "demo-" + secrets.token_urlsafe(12)}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(credentials, handle)
    return credentials


def _step_modules() -> list[ModuleType]:
    """Every file of this package (imported by name: each imports this package's types)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def collect_steps() -> list[SeedStep]:
    steps: list[SeedStep] = []
    for module in _step_modules():
        steps.extend(getattr(module, "STEPS", []))
    return sorted(steps, key=lambda step: (step.order, step.name))


async def run_seed(settings: Settings, database: Database) -> DemoContext:
    context = DemoContext(settings, database, demo_credentials(settings))
    # demo_seed_step is bookkeeping of the deployment, not application data: the owner keeps it.
    owner_engine = create_async_engine(database.urls.owner)
    try:
        async with owner_engine.connect() as connection:
            rows = await connection.execute(text("SELECT name FROM demo_seed_step"))
            done = {row[0] for row in rows}
        pending = [step for step in collect_steps() if step.name not in done]
        if not pending:
            return context
        with Progress(transient=False) as progress:
            bar = progress.add_task("seeding demo data", total=len(pending))
            for step in pending:
                progress.update(bar, description=f"seeding: {step.name}")
                await step.run(context)
                async with owner_engine.begin() as connection:
                    await connection.execute(
                        text(
                            "INSERT INTO demo_seed_step (name) VALUES (:name) "
                            "ON CONFLICT DO NOTHING"
                        ),
                        {"name": step.name},
                    )
                progress.advance(bar)
    finally:
        await owner_engine.dispose()
    return context


async def prepare_demo(settings: Settings, base_url: str) -> list[str]:
    """Migrate and seed, keep the keys of the live traffic; returns the lines to print."""
    from mercato.demo.traffic import ensure_traffic_keys  # it imports this package

    upgrade(settings)
    database = init_database(settings)
    init_redis(settings)
    try:
        context = await run_seed(settings, database)
        await ensure_traffic_keys(context)
    finally:
        await close_redis()
        await close_database()
    return [
        "[bold green]Demo ready[/bold green]",
        f"  dashboard: {base_url}/app",
        f"  API docs:  {base_url}/docs",
        f"  login:     {context.credentials['email']}",
        f"  password:  {context.credentials['password']}",
        *context.notes,
    ]
