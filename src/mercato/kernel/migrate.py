"""Run Alembic migrations programmatically (the `mercato migrate` command and the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from mercato.kernel.db import resolve_urls
from mercato.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS_DIR = REPO_ROOT / "migrations"


def alembic_config(owner_url: str | None = None) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if owner_url is not None:
        config.attributes["owner_url"] = owner_url
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(resolve_urls(settings).owner), revision)
